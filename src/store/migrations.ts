import { sql, type Kysely, type Migration, type MigrationProvider, type Migrator } from 'kysely';
import type { StoreCapabilities } from './store.js';

/** Tables whose row count grows with check-in traffic. */
const BIG_TABLES = ['check_in_events', 'occurrences', 'ingest_errors'] as const;

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
    '0002_evaluation': {
      async up(db: Kysely<unknown>) {
        // The evaluator's memory of each monitor lives on the monitor row.
        const columns: [string, 'text' | 'integer' | 'bigint', boolean][] = [
          ['status', 'text', true],
          ['next_check_at', 'bigint', false],
          ['ticks_through', 'bigint', false],
          ['armed_from', 'bigint', false],
          ['armed', 'integer', true],
          ['consecutive_failures', 'integer', true],
          ['consecutive_successes', 'integer', true],
          ['open_incident_id', 'integer', false],
          ['last_success_at', 'bigint', false],
          ['last_failure_at', 'bigint', false],
        ];
        for (const [name, type, required] of columns) {
          await db.schema
            .alterTable('monitors')
            .addColumn(name, type, (c) => (required ? c.notNull().defaultTo(type === 'text' ? 'new' : 0) : c))
            .execute();
        }
        // The evaluator sleeps until the earliest of these.
        await db.schema.createIndex('monitors_next_check_at').on('monitors').column('next_check_at').execute();
        // The client's own timestamp when it was too far from the receive time to be trusted.
        await db.schema.alterTable('check_in_events').addColumn('client_timestamp', 'bigint').execute();
        await db.schema
          .createTable('occurrences')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('monitor_id', 'integer', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
          .addColumn('expected_at', 'bigint', (c) => c.notNull())
          .addColumn('deadline', 'bigint', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint')
          .addColumn('finished_at', 'bigint')
          .addColumn('digest', 'text')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('occurrences_monitor_expected').on('occurrences').columns(['monitor_id', 'expected_at']).execute();
        await db.schema
          .createTable('incidents')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('monitor_id', 'integer', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('opened_at', 'bigint', (c) => c.notNull())
          .addColumn('resolved_at', 'bigint')
          .addColumn('opened_occurrence_id', 'integer')
          .addColumn('resolved_occurrence_id', 'integer')
          .execute();
        await db.schema.createIndex('incidents_monitor').on('incidents').columns(['monitor_id', 'id']).execute();
        await db.schema
          .createTable('notifiers')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        // The outbox: written in the same transaction as the incident change it announces.
        await db.schema
          .createTable('deliveries')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('uid', 'text', (c) => c.notNull().unique())
          .addColumn('notifier_id', 'integer', (c) => c.notNull().references('notifiers.id').onDelete('cascade'))
          .addColumn('incident_id', 'integer', (c) => c.references('incidents.id').onDelete('cascade'))
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('claimed_until', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .addColumn('last_error', 'text')
          .execute();
        await db.schema.createIndex('deliveries_due').on('deliveries').columns(['status', 'next_attempt_at']).execute();
        await db.schema.createIndex('deliveries_incident').on('deliveries').column('incident_id').execute();
        await db.schema
          .createTable('delivery_attempts')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('delivery_id', 'integer', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
          .addColumn('attempted_at', 'bigint', (c) => c.notNull())
          .addColumn('ok', 'integer', (c) => c.notNull())
          .addColumn('status_code', 'integer')
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('duration_ms', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('delivery_attempts_delivery').on('delivery_attempts').column('delivery_id').execute();
        // Where the evaluator is in the stream of check-in events.
        await db.schema
          .createTable('evaluator_cursor')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('last_event_id', 'bigint', (c) => c.notNull())
          .execute();
        await sql`insert into evaluator_cursor (id, last_event_id) values (1, 0)`.execute(db);
        // Each running Vigil process says it is alive; gaps become blackouts.
        await db.schema
          .createTable('instances')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('blackouts')
          .addColumn('id', id, (c) => c.primaryKey())
          .addColumn('from_at', 'bigint', (c) => c.notNull())
          .addColumn('to_at', 'bigint', (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const table of ['blackouts', 'instances', 'evaluator_cursor', 'delivery_attempts', 'deliveries', 'notifiers', 'incidents', 'occurrences']) {
          await sql`drop table if exists ${sql.table(table)}`.execute(db);
        }
      },
    },
    '0003_occurrence_indexes': {
      // The evaluator loads each monitor's recent windows by deadline, and the unsettled ones
      // (anything but success) without walking past the settled ones: a heartbeat that beats
      // every second leaves 86,400 success rows a day, none of which a pass needs but the last.
      async up(db: Kysely<unknown>) {
        await db.schema.createIndex('occurrences_monitor_deadline').on('occurrences').columns(['monitor_id', 'deadline']).execute();
        await db.schema
          .createIndex('occurrences_unsettled')
          .on('occurrences')
          .columns(['monitor_id', 'deadline'])
          .where(sql.ref('status'), '<>', 'success')
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex('occurrences_unsettled').execute();
        await db.schema.dropIndex('occurrences_monitor_deadline').execute();
      },
    },
    '0004_big_ids': {
      // PostgreSQL's serial is 32 bits: at 1,000 check-ins a second, check_in_events would run
      // out of ids in 25 days and every ingest would fail. The tables that grow with traffic
      // (and the columns pointing at them) get 64-bit ids. Nothing to do where the usual id is
      // 64 bits already (SQLite). On a big existing table, PostgreSQL rewrites it under an
      // exclusive lock: ingest waits until it is done.
      async up(db: Kysely<unknown>) {
        if (capabilities.bigAutoIncrementType === capabilities.autoIncrementType) return;
        for (const table of BIG_TABLES) {
          await sql`alter table ${sql.table(table)} alter column id type bigint`.execute(db);
          await sql`alter sequence ${sql.table(`${table}_id_seq`)} as bigint`.execute(db);
        }
        for (const column of ['opened_occurrence_id', 'resolved_occurrence_id']) {
          await sql`alter table incidents alter column ${sql.ref(column)} type bigint`.execute(db);
        }
      },
      async down(db: Kysely<unknown>) {
        if (capabilities.bigAutoIncrementType === capabilities.autoIncrementType) return;
        for (const column of ['opened_occurrence_id', 'resolved_occurrence_id']) {
          await sql`alter table incidents alter column ${sql.ref(column)} type integer`.execute(db);
        }
        for (const table of BIG_TABLES) {
          await sql`alter sequence ${sql.table(`${table}_id_seq`)} as integer`.execute(db);
          await sql`alter table ${sql.table(table)} alter column id type integer`.execute(db);
        }
      },
    },
    '0005_ids_never_reused': {
      // SQLite hands out the highest id + 1, so deleting the newest rows (a monitor and its
      // check-ins) gave their ids to the next ones: the evaluator, which reads check-ins past
      // the last id it judged, never saw those; a process whose catalog had not reloaded yet
      // filed a deleted monitor's check-ins under the new monitor that took its id; a deleted
      // notifier's id, still listed on monitors, went to the next notifier. AUTOINCREMENT
      // never hands an id out twice. SQLite cannot add it to a table, so each table is rebuilt
      // (https://sqlite.org/lang_altertable.html#otheralter) with foreign keys off, so that
      // dropping the old table deletes nothing else; their references are checked at the end.
      async up(db: Kysely<unknown>) {
        if (!capabilities.reusesDeletedIds) return;
        await sql`pragma foreign_keys = off`.execute(db);
        try {
          await db.transaction().execute(async (trx) => {
            // Every table whose id SQLite hands out (an `integer primary key` without AUTOINCREMENT).
            const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and sql like '%("id" integer primary key,%'`.execute(trx);
            for (const { name } of tables.rows) await rebuildWithAutoincrement(trx, name);
            const broken = await sql`pragma foreign_key_check`.execute(trx);
            if (broken.rows.length > 0) throw new Error(`0005_ids_never_reused: broken references after the rebuild: ${JSON.stringify(broken.rows.slice(0, 5))}`);
          });
        } finally {
          await sql`pragma foreign_keys = on`.execute(db);
        }
      },
      async down() {
        // AUTOINCREMENT stays: it changes no data and the earlier schema works with it.
      },
    },
  };
}

/**
 * Rebuilds a SQLite table as the same table with `AUTOINCREMENT` on its id: new table from
 * the old one's own DDL, rows copied (ids kept, which also starts its AUTOINCREMENT counter
 * past them), old table dropped, new one renamed, indexes created again.
 */
async function rebuildWithAutoincrement(db: Kysely<unknown>, table: string): Promise<void> {
  const definition = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  const ddl = definition.rows[0]?.sql;
  if (!ddl) throw new Error(`0005_ids_never_reused: table ${table} is missing`);
  const temporary = `${table}__rebuilt`;
  const rebuilt = ddl
    .replace(/^CREATE TABLE "[^"]+"/i, `CREATE TABLE "${temporary}"`)
    .replace(/\("id" integer primary key,/i, '("id" integer primary key autoincrement,');
  if (!rebuilt.includes(temporary) || !/autoincrement/i.test(rebuilt)) throw new Error(`0005_ids_never_reused: unexpected definition of ${table}: ${ddl}`);
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = ${table} and sql is not null`.execute(db);
  await sql.raw(rebuilt).execute(db);
  await sql`insert into ${sql.table(temporary)} select * from ${sql.table(table)}`.execute(db);
  await sql`drop table ${sql.table(table)}`.execute(db);
  await sql`alter table ${sql.table(temporary)} rename to ${sql.table(table)}`.execute(db);
  for (const index of indexes.rows) await sql.raw(index.sql).execute(db);
}

/** The migration set in a form Kysely's `Migrator` takes. */
export function migrationProvider(capabilities: StoreCapabilities): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(capabilities)) };
}

/** How many migrations this build knows; `readyz` compares it with what the database has. */
export const knownMigrationCount = (capabilities: StoreCapabilities): number =>
  Object.keys(migrations(capabilities)).length;

/** Applies pending migrations; returns the names applied (every store's `migrate`). */
export async function applyMigrations(migrator: Migrator): Promise<string[]> {
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** How many known migrations the database has not applied (every store's `pendingMigrations`). */
export async function countPendingMigrations(migrator: Migrator, capabilities: StoreCapabilities): Promise<number> {
  const applied = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).length;
  return knownMigrationCount(capabilities) - applied;
}
