import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { applyMigrations, countPendingMigrations, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import type { IngestBatch, Store, StoreCapabilities } from './store.js';

const capabilities: StoreCapabilities = Object.freeze({
  autoIncrementType: 'serial',
  bigAutoIncrementType: 'bigserial',
  reusesDeletedIds: false,
  supportsSkipLocked: true,
  sharedByInstances: true,
});

// Every ingest commit, from every instance, takes this lock first, so check-in ids become
// visible in id order and the evaluator's `id > cursor` never skips a slower commit.
const INGEST_LOCK = 7_351_001;
const FOREIGN_KEY_VIOLATION = '23503';

// int8 columns hold epoch milliseconds and ids: well inside 2^53, so numbers, not strings.
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text'),
};

/** PostgreSQL; several Vigil processes may share one database. */
export class PostgresStore implements Store {
  readonly db: Kysely<Database>;
  readonly capabilities = capabilities;
  readonly groupsIngestCommits = false;
  ingestCommits = 0;
  readonly description: string;
  private migratorInstance: Migrator | undefined;

  constructor(url: string) {
    const parsed = new URL(url);
    this.description = `postgres://${parsed.host}${parsed.pathname}`;
    const pool = new pg.Pool({ connectionString: url, types, max: 10 });
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }

  /**
   * Kysely finds its bookkeeping tables in any schema; pin them to the current one (the
   * `search_path`), so several Vigil databases can share one PostgreSQL database.
   */
  private async migrator(): Promise<Migrator> {
    if (!this.migratorInstance) {
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(this.db);
      this.migratorInstance = new Migrator({ db: this.db, provider: migrationProvider(capabilities), migrationTableSchema: rows[0]?.schema ?? 'public' });
    }
    return this.migratorInstance;
  }

  async migrate(): Promise<string[]> {
    return applyMigrations(await this.migrator());
  }

  async pendingMigrations(): Promise<number> {
    return countPendingMigrations(await this.migrator(), capabilities);
  }

  async writeIngest(batch: IngestBatch): Promise<void> {
    try {
      await this.insertBatch(batch);
    } catch (error) {
      // A monitor deleted between the EXISTS check and the commit: once more, without it.
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      await this.insertBatch(batch);
    }
    this.ingestCommits += 1;
  }

  private async insertBatch({ events, errors }: IngestBatch): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${INGEST_LOCK})`.execute(trx);
      if (events.length > 0) {
        const column = <T>(pick: (e: (typeof events)[number]) => T) => events.map(pick);
        // One statement for the whole group commit: arrays in, rows out.
        await sql`
          insert into check_in_events (monitor_id, check_in_type, kind, digest, "timestamp", received_at, hostname, exit_code, output, client_timestamp)
          select t.monitor_id, t.check_in_type, t.kind, t.digest, t."timestamp", t.received_at, t.hostname, t.exit_code, t.output, t.client_timestamp
          from unnest(
            ${column((e) => e.monitor_id)}::int4[], ${column((e) => e.check_in_type)}::text[], ${column((e) => e.kind ?? null)}::text[],
            ${column((e) => e.digest ?? null)}::text[], ${column((e) => e.timestamp)}::int8[], ${column((e) => e.received_at)}::int8[],
            ${column((e) => e.hostname ?? null)}::text[], ${column((e) => e.exit_code ?? null)}::int4[], ${column((e) => e.output ?? null)}::text[],
            ${column((e) => e.client_timestamp ?? null)}::int8[]
          ) with ordinality as t(monitor_id, check_in_type, kind, digest, "timestamp", received_at, hostname, exit_code, output, client_timestamp, n)
          where exists (select 1 from monitors m where m.id = t.monitor_id)
          order by t.n`.execute(trx);
      }
      if (errors.length > 0) {
        const column = <T>(pick: (e: (typeof errors)[number]) => T) => errors.map(pick);
        await sql`
          insert into ingest_errors (app_id, identifier, code, message, line, received_at)
          select t.app_id, t.identifier, t.code, t.message, t.line, t.received_at
          from unnest(
            ${column((e) => e.app_id)}::int4[], ${column((e) => e.identifier ?? null)}::text[], ${column((e) => e.code)}::text[],
            ${column((e) => e.message)}::text[], ${column((e) => e.line ?? null)}::int4[], ${column((e) => e.received_at)}::int8[]
          ) with ordinality as t(app_id, identifier, code, message, line, received_at, n)
          where exists (select 1 from apps a where a.id = t.app_id)
          order by t.n`.execute(trx);
      }
    });
  }

  async writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
