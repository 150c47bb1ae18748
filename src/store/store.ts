import type { ColumnDataType, Kysely } from 'kysely';
import type { Database, NewCheckInEvent, NewIngestError } from './schema.js';

/**
 * What genuinely differs between the SQL engines. Domain code reads these flags,
 * never the dialect's name.
 */
export interface StoreCapabilities {
  /** Column type of an auto-increment primary key. */
  readonly autoIncrementType: ColumnDataType;
  /** The same, 64 bits wide: for tables that may pass 2^31 rows in their life (check-ins). */
  readonly bigAutoIncrementType: ColumnDataType;
  /**
   * Whether a key created as `autoIncrementType` can be handed out again once the row with
   * the highest one is deleted (SQLite's rowid without AUTOINCREMENT).
   */
  readonly reusesDeletedIds: boolean;
  /** Whether `FOR UPDATE SKIP LOCKED` exists (claims by several instances). */
  readonly supportsSkipLocked: boolean;
  /** Whether several Vigil processes may share this database. */
  readonly sharedByInstances: boolean;
}

/** One group commit from the ingest path: check-in events and ingest errors, stored together. */
export interface IngestBatch {
  readonly events: readonly NewCheckInEvent[];
  readonly errors: readonly NewIngestError[];
}

/** Persistence. SQLite and PostgreSQL implement it; one contract suite tests both. */
export interface Store {
  /** Dialect-neutral query builder for repositories. */
  readonly db: Kysely<Database>;
  readonly capabilities: StoreCapabilities;
  /** A short human description (engine and location, no secrets). */
  readonly description: string;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Number of migrations this build knows that the database has not applied. */
  pendingMigrations(): Promise<number>;
  /**
   * Stores one ingest batch in a single durable transaction. Events whose monitor
   * no longer exists (deleted meanwhile) are dropped, never failing the batch.
   */
  writeIngest(batch: IngestBatch): Promise<void>;
  /**
   * True when `writeIngest` may be called again before earlier calls settle because the
   * store itself merges the batches waiting for it into one commit (SQLite's ingest
   * thread); false when each call is a transaction of its own, so the caller groups.
   */
  readonly groupsIngestCommits: boolean;
  /** Durable commits `writeIngest` made so far (for SQLite files, the ingest thread's). */
  readonly ingestCommits: number;
  /**
   * Runs `work` in a read-write transaction that takes the write lock up front (SQLite
   * `BEGIN IMMEDIATE`), so reading then writing never fails on a concurrent writer.
   */
  writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
