import { statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { IngestBatch } from './store.js';

/**
 * The SQLite ingest write path shared by the main thread (encoding) and the ingest worker
 * (`sqlite-ingest-worker.ts`, which commits). It lives in its own module so the worker
 * loads nothing but better-sqlite3.
 */

/** Numbers per event in `EncodedBatch.numbers`. */
const EVENT_NUMBERS = 5;
/** String references per event in `EncodedBatch.strings`. */
const EVENT_STRINGS = 5;
/** Values per ingest error in `EncodedBatch.errors`. */
const ERROR_VALUES = 6;

/**
 * One group commit in a form that is cheap to post to a worker: the events' numeric
 * columns in a Float64Array and their string columns as indices into a table of distinct
 * strings (both arrays are transferred, not copied). Measured on the main thread, this
 * costs about a fifth of structured-cloning the event objects or of JSON.stringify.
 */
export interface EncodedBatch {
  readonly eventCount: number;
  /** Per event: monitor_id, timestamp, received_at, exit_code, client_timestamp (NaN = null). */
  readonly numbers: Float64Array;
  /** Per event: check_in_type, kind, digest, hostname, output as indices into `table` (-1 = null). */
  readonly strings: Int32Array;
  readonly table: string[];
  /** Per ingest error: app_id, identifier, code, message, line, received_at (rare: plain values). */
  readonly errors: (string | number | null)[];
}

/**
 * Encodes a batch for `IngestCommitter.commit`; `transfer` lists the buffers to hand over
 * with `postMessage`. A null number is stored as NaN: better-sqlite3 binds every number as
 * a double and SQLite stores a NaN double as NULL, so NaN and null were already the same.
 */
export function encodeBatch(batch: IngestBatch): { encoded: EncodedBatch; transfer: ArrayBuffer[] } {
  const count = batch.events.length;
  const numbers = new Float64Array(count * EVENT_NUMBERS);
  const strings = new Int32Array(count * EVENT_STRINGS);
  const table: string[] = [];
  const index = new Map<string, number>();
  const intern = (value: string | null | undefined): number => {
    if (value === null || value === undefined) return -1;
    let at = index.get(value);
    if (at === undefined) {
      at = table.length;
      table.push(value);
      index.set(value, at);
    }
    return at;
  };
  let n = 0;
  let s = 0;
  for (const e of batch.events) {
    numbers[n] = e.monitor_id;
    numbers[n + 1] = e.timestamp;
    numbers[n + 2] = e.received_at;
    numbers[n + 3] = e.exit_code ?? NaN;
    numbers[n + 4] = e.client_timestamp ?? NaN;
    n += EVENT_NUMBERS;
    strings[s] = intern(e.check_in_type);
    strings[s + 1] = intern(e.kind);
    strings[s + 2] = intern(e.digest);
    strings[s + 3] = intern(e.hostname);
    strings[s + 4] = intern(e.output);
    s += EVENT_STRINGS;
  }
  const errors: (string | number | null)[] = [];
  for (const e of batch.errors) {
    errors.push(e.app_id, e.identifier ?? null, e.code, e.message, e.line ?? null, e.received_at);
  }
  return {
    encoded: { eventCount: count, numbers, strings, table, errors },
    transfer: [numbers.buffer as ArrayBuffer, strings.buffer as ArrayBuffer],
  };
}

export interface IngestCommitterOptions {
  /** How long a commit waits for another connection's write lock (ms). */
  readonly busyTimeoutMs?: number;
  /** A PASSIVE checkpoint runs (between commits) once the last one is this old (ms)… */
  readonly checkpointIntervalMs?: number;
  /** …or once the WAL holds more than this (bytes). */
  readonly checkpointBytes?: number;
  /** Above this WAL file size, a TRUNCATE checkpoint shrinks it (bytes). */
  readonly walLimitBytes?: number;
}

export const INGEST_DEFAULTS: Required<IngestCommitterOptions> = Object.freeze({
  busyTimeoutMs: 5000,
  checkpointIntervalMs: 1000,
  checkpointBytes: 32 * 2 ** 20,
  walLimitBytes: 64 * 2 ** 20,
});

const EVENT_COLUMNS = 'monitor_id, check_in_type, kind, digest, timestamp, received_at, hostname, exit_code, output, client_timestamp';
const EVENT_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const VALUES_PER_EVENT = 10;
/**
 * Events per multi-row INSERT: one statement per 32 rows costs less than 32 one-row ones,
 * chiefly because AUTOINCREMENT reads and writes its counter once per statement.
 */
const EVENTS_PER_INSERT = 32;

/**
 * Inserts encoded batches on a connection, inside the caller's write transaction: each
 * distinct monitor (app) of a batch is looked up once and the rows of one that no longer
 * exists are skipped. Holding the write lock, nothing can delete a monitor in between, so
 * this is a `WHERE EXISTS` guard without running it (or a foreign-key check) per row. Used
 * by the ingest thread and, for `:memory:`, on the main connection.
 */
export class IngestInserter {
  private readonly insertEvent: BetterSqlite3.Statement;
  private readonly insertEvents: BetterSqlite3.Statement;
  private readonly insertError: BetterSqlite3.Statement;
  private readonly monitorExists: BetterSqlite3.Statement<[number], number>;
  private readonly appExists: BetterSqlite3.Statement<[number], number>;

  constructor(db: BetterSqlite3.Database) {
    this.insertEvent = db.prepare(`INSERT INTO check_in_events (${EVENT_COLUMNS}) VALUES ${EVENT_VALUES}`);
    this.insertEvents = db.prepare(`INSERT INTO check_in_events (${EVENT_COLUMNS}) VALUES ${Array(EVENTS_PER_INSERT).fill(EVENT_VALUES).join(', ')}`);
    this.insertError = db.prepare('INSERT INTO ingest_errors (app_id, identifier, code, message, line, received_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.monitorExists = db.prepare<[number], number>('SELECT 1 FROM monitors WHERE id = ?').pluck();
    this.appExists = db.prepare<[number], number>('SELECT 1 FROM apps WHERE id = ?').pluck();
  }

  insert(batch: EncodedBatch): void {
    const { numbers, strings, table } = batch;
    const text = (at: number | undefined): string | null => (at === undefined || at < 0 ? null : (table[at] ?? null));
    const nullable = (value: number | undefined): number | null => (value === undefined || Number.isNaN(value) ? null : value);
    const monitorExists = existsOnce(this.monitorExists);
    // Rows in arrival order: full chunks through the multi-row INSERT, the rest one by one.
    const values: unknown[] = [];
    let n = 0;
    let s = 0;
    for (let i = 0; i < batch.eventCount; i++, n += EVENT_NUMBERS, s += EVENT_STRINGS) {
      const monitorId = numbers[n]!;
      if (!monitorExists(monitorId)) continue;
      values.push(
        monitorId,
        text(strings[s]),
        text(strings[s + 1]),
        text(strings[s + 2]),
        numbers[n + 1],
        numbers[n + 2],
        text(strings[s + 3]),
        nullable(numbers[n + 3]),
        text(strings[s + 4]),
        nullable(numbers[n + 4]),
      );
      if (values.length === EVENTS_PER_INSERT * VALUES_PER_EVENT) {
        this.insertEvents.run(values);
        values.length = 0;
      }
    }
    for (let at = 0; at < values.length; at += VALUES_PER_EVENT) this.insertEvent.run(values.slice(at, at + VALUES_PER_EVENT));
    const appExists = existsOnce(this.appExists);
    const errors = batch.errors;
    for (let o = 0; o + ERROR_VALUES <= errors.length; o += ERROR_VALUES) {
      const appId = Number(errors[o]);
      if (appExists(appId)) this.insertError.run(appId, errors[o + 1], errors[o + 2], errors[o + 3], errors[o + 4], errors[o + 5]);
    }
  }
}

/** `statement` (SELECT 1 … WHERE id = ?) asked once per id. */
function existsOnce(statement: BetterSqlite3.Statement<[number], number>): (id: number) => boolean {
  const known = new Map<number, boolean>();
  return (id) => {
    let exists = known.get(id);
    if (exists === undefined) known.set(id, (exists = statement.get(id) !== undefined));
    return exists;
  };
}

/**
 * The ingest worker's own connection to a file database, and how it commits.
 *
 * - synchronous=FULL: the WAL is fsynced at every commit; `commit` returns only then.
 * - foreign_keys=OFF: `IngestInserter` checks each monitor (app) once per batch instead.
 *   ON DELETE CASCADE still runs on the main connection, which keeps foreign_keys=ON and
 *   is where deletes happen.
 * - wal_autocheckpoint=0: no commit ever runs a checkpoint; `maybeCheckpoint`, called
 *   after a commit was acknowledged, does (see there).
 */
export class IngestCommitter {
  private readonly db: BetterSqlite3.Database;
  private readonly walPath: string;
  private readonly options: Required<IngestCommitterOptions>;
  private readonly transaction: (batches: readonly EncodedBatch[]) => void;
  private lastCheckpoint = performance.now();

  constructor(path: string, options: IngestCommitterOptions = {}) {
    this.options = { ...INGEST_DEFAULTS, ...options };
    this.db = new BetterSqlite3(path, { fileMustExist: true });
    this.walPath = `${this.db.name}-wal`;
    try {
      this.db.pragma(`busy_timeout = ${Math.floor(this.options.busyTimeoutMs)}`);
      // The main connection set WAL mode (it is persistent); insist, never fall back.
      const mode = this.db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`ingest writer: journal_mode is ${String(mode)}, expected wal`);
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = OFF');
      this.db.pragma('wal_autocheckpoint = 0');
      // When the WAL starts over after a checkpoint, its file is cut back to this size,
      // so the file's size above it is the WAL's live size (see maybeCheckpoint).
      this.db.pragma(`journal_size_limit = ${Math.floor(this.options.checkpointBytes)}`);
      const inserter = new IngestInserter(this.db);
      const run = this.db.transaction((batches: readonly EncodedBatch[]) => {
        for (const batch of batches) inserter.insert(batch);
      });
      this.transaction = (batches) => run.immediate(batches);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Stores the batches in one transaction; returns once it is committed and fsynced. */
  commit(...batches: EncodedBatch[]): void {
    this.transaction(batches);
  }

  /**
   * Between commits, a PASSIVE checkpoint when the last one is `checkpointIntervalMs` old or
   * the WAL outgrew `checkpointBytes` (one stat of the WAL file: thanks to
   * journal_size_limit, the file is larger than that only when the live WAL is). PASSIVE
   * never waits for a lock, and as this thread is the only heavy writer it usually copies
   * the whole WAL, so the next commit starts the WAL over instead of growing it. When
   * readers kept it from doing so and the file outgrew `walLimitBytes`, a TRUNCATE
   * checkpoint (which waits up to busy_timeout for them) shrinks it: the WAL is bounded.
   */
  maybeCheckpoint(force = false): void {
    const now = performance.now();
    const size = this.walSize();
    if (!force && size <= this.options.checkpointBytes && now - this.lastCheckpoint < this.options.checkpointIntervalMs) return;
    this.lastCheckpoint = now;
    if (!force && size === 0) return;
    this.db.pragma('wal_checkpoint(PASSIVE)');
    if (this.walSize() > this.options.walLimitBytes) this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.lastCheckpoint = performance.now();
  }

  private walSize(): number {
    try {
      return statSync(this.walPath).size;
    } catch {
      return 0;
    }
  }

  close(): void {
    this.db.close();
  }
}
