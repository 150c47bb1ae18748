import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StoreCapabilities } from './store.js';

/**
 * Versioned migrations. Each receives the store's capabilities so the few genuine
 * dialect differences (how an auto-increment key is spelled) stay here.
 */
function migrations(capabilities: StoreCapabilities): Record<string, Migration> {
  const id = capabilities.autoIncrementType;
  return {
    '0001_core': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('api_tokens')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_used_at', 'bigint')
          .execute();
        await db.schema
          .createTable('apps')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('environment', 'text', (c) => c.notNull())
          .addColumn('push_key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('apps_name_environment_unique', ['name', 'environment'])
          .execute();
        await db.schema
          .createTable('monitors')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('app_id', 'integer', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('identifier', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('schedule', 'text')
          .addColumn('timezone', 'text')
          .addColumn('max_duration', 'integer', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('notifier_ids', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('failure_threshold', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('recovery_threshold', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('monitors_app_identifier_unique', ['app_id', 'identifier'])
          .execute();
        await db.schema
          .createTable('check_in_events')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('monitor_id', 'integer', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
          .addColumn('check_in_type', 'text', (c) => c.notNull())
          .addColumn('kind', 'text')
          .addColumn('digest', 'text')
          .addColumn('timestamp', 'bigint', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('hostname', 'text')
          .addColumn('exit_code', 'integer')
          .addColumn('output', 'text')
          .execute();
        // Reading a monitor's events newest first, and its latest event, walk this index.
        await db.schema
          .createIndex('check_in_events_monitor_id')
          .on('check_in_events')
          .columns(['monitor_id', 'id'])
          .execute();
        await db.schema
          .createTable('ingest_errors')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('app_id', 'integer', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('identifier', 'text')
          .addColumn('code', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('line', 'integer')
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .execute();
        // Bumped by every change to apps or monitors, so other processes (the CLI, other
        // instances) make a server reload its in-memory catalog.
        await db.schema
          .createTable('catalog_version')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .execute();
        await sql`insert into catalog_version (id, version) values (1, 0)`.execute(db);
        await db.schema.createIndex('ingest_errors_app_id').on('ingest_errors').columns(['app_id', 'id']).execute();
      },
      async down(db: Kysely<unknown>) {
        for (const table of ['catalog_version', 'ingest_errors', 'check_in_events', 'monitors', 'apps', 'api_tokens', 'users']) {
          await sql`drop table if exists ${sql.table(table)}`.execute(db);
        }
      },
    },
  };
}

/** The migration set in a form Kysely's `Migrator` takes. */
export function migrationProvider(capabilities: StoreCapabilities): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(capabilities)) };
}

/** How many migrations this build knows; `readyz` compares it with what the database has. */
export const knownMigrationCount = (capabilities: StoreCapabilities): number =>
  Object.keys(migrations(capabilities)).length;
