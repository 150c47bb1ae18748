import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { knownMigrationCount, migrationProvider } from './migrations.js';
import type { Database, NewCheckInEvent, NewIngestError } from './schema.js';
import type { IngestBatch, Store, StoreCapabilities } from './store.js';

const capabilities: StoreCapabilities = Object.freeze({
  autoIncrementType: 'integer',
  supportsSkipLocked: false,
  sharedByInstances: false,
});

/** SQLite via better-sqlite3 in WAL mode; `path` is a file or `:memory:`. */
export class SqliteStore implements Store {
  readonly db: Kysely<Database>;
  readonly capabilities = capabilities;
  readonly description: string;
  private readonly raw: BetterSqlite3.Database;
  private readonly migrator: Migrator;
  /** Prepared once the schema exists (after `migrate`). */
  private writeBatch: ((batch: IngestBatch) => void) | undefined;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.description = `sqlite:${path}`;
    this.raw = new BetterSqlite3(path);
    this.raw.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so an acknowledged check-in survives
    // power loss, not only a process crash. Group commit pays for it.
    this.raw.pragma('synchronous = FULL');
    this.raw.pragma('foreign_keys = ON');
    this.raw.pragma('busy_timeout = 5000');
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: this.raw }) });
    this.migrator = new Migrator({ db: this.db, provider: migrationProvider(capabilities) });
  }

  async migrate(): Promise<string[]> {
    const { error, results } = await this.migrator.migrateToLatest();
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async pendingMigrations(): Promise<number> {
    const applied = (await this.migrator.getMigrations()).filter((m) => m.executedAt !== undefined).length;
    return knownMigrationCount(capabilities) - applied;
  }

  private prepareWriteBatch(): (batch: IngestBatch) => void {
    // INSERT … SELECT … WHERE EXISTS: a monitor deleted between lookup and commit drops
    // its events instead of failing everyone else's in the same group commit.
    const insertEvent = this.raw.prepare(
      `INSERT INTO check_in_events (monitor_id, check_in_type, kind, digest, timestamp, received_at, hostname, exit_code, output, client_timestamp)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM monitors WHERE id = ?)`,
    );
    const insertError = this.raw.prepare(
      `INSERT INTO ingest_errors (app_id, identifier, code, message, line, received_at)
       SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM apps WHERE id = ?)`,
    );
    const transaction = this.raw.transaction((batch: IngestBatch) => {
      for (const e of batch.events) insertEventRow(insertEvent, e);
      for (const e of batch.errors) insertErrorRow(insertError, e);
    });
    return (batch) => transaction.immediate(batch);
  }

  async writeIngest(batch: IngestBatch): Promise<void> {
    // Hold Kysely's single connection so no Kysely transaction interleaves with ours;
    // inside, better-sqlite3's synchronous transaction with cached statements is the fast path.
    await this.db.connection().execute(async () => {
      this.writeBatch ??= this.prepareWriteBatch();
      this.writeBatch(batch);
    });
  }

  async writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    // Kysely's SQLite transactions begin DEFERRED; a deferred transaction that reads and
    // then writes fails with SQLITE_BUSY when another connection committed in between.
    return this.db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      try {
        const result = await work(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection);
        throw error;
      }
    });
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

function insertEventRow(statement: BetterSqlite3.Statement, e: NewCheckInEvent): void {
  statement.run(
    e.monitor_id,
    e.check_in_type,
    e.kind ?? null,
    e.digest ?? null,
    e.timestamp,
    e.received_at,
    e.hostname ?? null,
    e.exit_code ?? null,
    e.output ?? null,
    e.client_timestamp ?? null,
    e.monitor_id,
  );
}

function insertErrorRow(statement: BetterSqlite3.Statement, e: NewIngestError): void {
  statement.run(e.app_id, e.identifier ?? null, e.code, e.message, e.line ?? null, e.received_at, e.app_id);
}
