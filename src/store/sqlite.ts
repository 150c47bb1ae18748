import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  SqliteDialect,
  SelectQueryNode,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';
import { applyMigrations, countPendingMigrations, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import { INGEST_DEFAULTS, IngestInserter, encodeBatch, type IngestCommitterOptions } from './sqlite-ingest.js';
import type { FromIngestWorker, IngestWorkerData, ToIngestWorker } from './sqlite-ingest-worker.js';
import type { IngestBatch, Store, StoreCapabilities } from './store.js';

const capabilities: StoreCapabilities = Object.freeze({
  autoIncrementType: 'integer',
  // INTEGER PRIMARY KEY is the rowid: 64 bits already.
  bigAutoIncrementType: 'integer',
  // Until migration 0005 adds AUTOINCREMENT to every table (new tables: `.autoIncrement()`).
  reusesDeletedIds: true,
  supportsSkipLocked: false,
  sharedByInstances: false,
});

/** How long either connection waits for the other's write lock before failing (ms). */
const BUSY_TIMEOUT_MS = 5000;
/** How long `close()` lets the ingest thread finish before terminating it (ms). */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * Creates the directories of a database file one level at a time: Node's recursive
 * `mkdirSync` never returns when the system answers ENOENT for a directory whose parent
 * exists (anywhere under /proc); this way that is an error.
 */
function createParentDirectories(file: string): void {
  const missing: string[] = [];
  for (let dir = dirname(resolve(file)); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir)) missing.unshift(dir);
  for (const dir of missing) mkdirSync(dir);
}

/**
 * SQLite via better-sqlite3 in WAL mode; `path` is a file or `:memory:`.
 *
 * For a file, ingest batches are committed by a worker thread on its own connection
 * (`sqlite-ingest-worker.ts`), so the fsync of each group commit never blocks the event
 * loop; everything else (API, evaluator, migrations) uses Kysely on the main connection.
 * SQLite allows one writer at a time: an async lock (`WriteLock`) makes ingest commits and
 * Kysely transactions take turns without ever blocking the event loop in SQLite's busy
 * handler. `:memory:` cannot be shared by two connections and keeps a main-thread path.
 */
export class SqliteStore implements Store {
  readonly db: Kysely<Database>;
  readonly capabilities = capabilities;
  private memoryCommits = 0;
  readonly description: string;
  private readonly raw: BetterSqlite3.Database;
  private readonly migrator: Migrator;
  private readonly path: string;
  private readonly writeLock = new WriteLock();
  /** `:memory:` only: prepared once the schema exists (after `migrate`). */
  private writeBatch: ((batch: IngestBatch) => void) | undefined;
  /** File databases: the ingest thread, started by the first `writeIngest` (after `migrate`). */
  private ingest: Promise<IngestThread> | undefined;
  private ingestThread: IngestThread | undefined;
  private closed = false;
  /** Writes not yet settled. */
  private readonly writes = new Set<Promise<void>>();

  constructor(path: string, private readonly ingestOptions: IngestCommitterOptions = {}) {
    if (path !== ':memory:') createParentDirectories(path);
    this.path = path;
    this.description = `sqlite:${path}`;
    this.raw = new BetterSqlite3(path);
    this.raw.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so an acknowledged check-in survives
    // power loss, not only a process crash. Group commit pays for it.
    this.raw.pragma('synchronous = FULL');
    this.raw.pragma('foreign_keys = ON');
    this.raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db = new Kysely<Database>({ dialect: new LockingSqliteDialect(this.raw, this.writeLock) });
    this.migrator = new Migrator({ db: this.db, provider: migrationProvider(capabilities) });
  }

  async migrate(): Promise<string[]> {
    return applyMigrations(this.migrator);
  }

  async pendingMigrations(): Promise<number> {
    return countPendingMigrations(this.migrator, capabilities);
  }

  private prepareWriteBatch(): (batch: IngestBatch) => void {
    const inserter = new IngestInserter(this.raw);
    const transaction = this.raw.transaction((batch: IngestBatch) => inserter.insert(encodeBatch(batch).encoded));
    return (batch) => transaction.immediate(batch);
  }

  writeIngest(batch: IngestBatch): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    if (batch.events.length === 0 && batch.errors.length === 0) return Promise.resolve();
    const write = this.groupsIngestCommits ? this.writeOnThread(batch) : this.writeOnConnection(batch);
    // close() waits for these, including any still waiting for the thread or the lock.
    this.writes.add(write);
    const done = (): void => void this.writes.delete(write);
    write.then(done, done);
    return write;
  }

  /** The ingest thread merges the batches that wait for it; `:memory:` commits each one. */
  get groupsIngestCommits(): boolean {
    return this.path !== ':memory:';
  }

  get ingestCommits(): number {
    return this.ingestThread?.commits ?? this.memoryCommits;
  }

  private async writeOnConnection(batch: IngestBatch): Promise<void> {
    // Hold Kysely's single connection so no Kysely transaction interleaves with ours;
    // inside, better-sqlite3's synchronous transaction with cached statements is the fast path.
    await this.db.connection().execute(async () => {
      this.writeBatch ??= this.prepareWriteBatch();
      this.writeBatch(batch);
      this.memoryCommits += 1;
    });
  }

  private async writeOnThread(batch: IngestBatch): Promise<void> {
    // Fast path, synchronous up to the post: called once per turn of the event loop under
    // load, so the batch should reach the thread before this turn's answers are written.
    let thread = this.ingestThread;
    let release = thread ? this.writeLock.tryAcquire('ingest') : undefined;
    if (!thread || !release) {
      thread ??= await this.startIngest();
      release ??= await this.writeLock.acquire('ingest');
    }
    try {
      await thread.write(batch);
    } finally {
      release();
    }
  }

  /** Starts the ingest thread once; a failed start fails this and every later write. */
  private startIngest(): Promise<IngestThread> {
    const options: Required<IngestCommitterOptions> = { ...INGEST_DEFAULTS, busyTimeoutMs: BUSY_TIMEOUT_MS, ...this.ingestOptions };
    this.ingest ??= IngestThread.start({ path: this.path, options }).then((thread) => {
      // The ingest thread checkpoints from now on: no main-thread commit runs one. And
      // whichever connection starts the WAL over cuts its file back the same way.
      this.raw.pragma('wal_autocheckpoint = 0');
      this.raw.pragma(`journal_size_limit = ${Math.floor(options.checkpointBytes)}`);
      this.ingestThread = thread;
      return thread;
    });
    return this.ingest;
  }

  async writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    // The dialect begins every transaction IMMEDIATE, after taking the write lock: reading
    // then writing never fails because the ingest thread committed in between.
    return this.db.transaction().execute(work);
  }

  async ping(): Promise<void> {
    // A dead ingest thread makes /readyz fail, not only the ingest answers.
    const thread = await this.ingest;
    thread?.throwIfFailed();
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await Promise.allSettled([...this.writes]);
      const thread = await this.ingest?.catch(() => undefined);
      await thread?.close();
    } finally {
      await this.db.destroy();
    }
  }
}

/** The longest a transaction or other main-thread write waits behind ingest commits (ms). */
const OTHER_WRITERS_MAX_WAIT_MS = 100;

type LockKind = 'ingest' | 'other';

interface LockWaiter {
  readonly grant: () => void;
  readonly since: number;
}

/**
 * The one-writer-at-a-time lock between ingest commits (on the ingest thread) and
 * main-thread writes (Kysely transactions and auto-commit statements); `acquire` resolves
 * with an idempotent release function.
 *
 * Ingest batches share it: the ingest thread commits them in order, merging those that
 * wait for it. Ingest goes first: an evaluator pass is a transaction of tens of ms, and
 * with a first-come order every group commit would wait for a whole pass. When the last
 * ingest batch releases the lock, other writers get it only after a turn of the event
 * loop, so the batch that turn hands over takes it first; but none waits more than
 * `OTHER_WRITERS_MAX_WAIT_MS`: once one has, no new ingest batch gets the lock until it
 * had its turn.
 */
class WriteLock {
  private holder: LockKind | undefined;
  /** Ingest batches holding the lock together (the ingest thread commits them in order). */
  private ingestHolders = 0;
  private readonly ingest: LockWaiter[] = [];
  private readonly other: LockWaiter[] = [];
  /** Set while other writers are held back for one turn after an ingest commit. */
  private graceTimer: NodeJS.Immediate | undefined;

  acquire(kind: LockKind = 'other'): Promise<() => void> {
    const release = this.tryAcquire(kind);
    if (release) return Promise.resolve(release);
    return new Promise((resolve) => {
      (kind === 'ingest' ? this.ingest : this.other).push({ grant: () => resolve(this.grant(kind)), since: performance.now() });
    });
  }

  /** The release function if the lock could be taken at once (now held), else undefined. */
  tryAcquire(kind: LockKind = 'other'): (() => void) | undefined {
    if (kind === 'ingest') return this.holder !== 'other' && !this.starving() ? this.grant(kind) : undefined;
    if (this.holder !== undefined || this.graceTimer !== undefined || this.other.length > 0 || this.ingest.length > 0) return undefined;
    return this.grant(kind);
  }

  private starving(): boolean {
    const oldest = this.other[0];
    return oldest !== undefined && performance.now() - oldest.since >= OTHER_WRITERS_MAX_WAIT_MS;
  }

  private grant(kind: LockKind): () => void {
    this.holder = kind;
    if (kind === 'ingest') this.ingestHolders += 1;
    if (this.graceTimer !== undefined) {
      clearImmediate(this.graceTimer);
      this.graceTimer = undefined;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (kind === 'ingest' && --this.ingestHolders > 0) return;
      this.holder = undefined;
      this.dispatch(kind);
    };
  }

  private dispatch(releasedBy: LockKind | undefined): void {
    if (this.holder !== undefined) return;
    if (this.starving()) return this.other.shift()?.grant();
    if (this.ingest.length > 0) {
      for (const waiter of this.ingest.splice(0)) waiter.grant();
      return;
    }
    if (this.other.length === 0) return;
    if (releasedBy === 'ingest') {
      this.graceTimer ??= setImmediate(() => {
        this.graceTimer = undefined;
        this.dispatch(undefined);
      });
      return;
    }
    this.other.shift()?.grant();
  }
}

/**
 * Kysely's SQLite dialect with two changes, both for the main connection:
 * - Transactions take the `WriteLock`, then begin IMMEDIATE. Kysely's own begin is
 *   DEFERRED, and a deferred transaction that reads and then writes fails with SQLITE_BUSY
 *   (not waited for) when the ingest thread committed in between; and waiting for the
 *   ingest thread in SQLite's busy handler would block the event loop. Lock order is
 *   always Kysely connection, then write lock.
 * - Prepared statements are cached by SQL text: Kysely's connection prepares every query
 *   anew, which was a tenth of the main thread's time under ingest load (evaluator passes).
 */
class LockingSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly lock: WriteLock,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    return new LockingSqliteDriver(this.database, this.lock);
  }
}

class LockingSqliteDriver extends SqliteDriver {
  private readonly connection: CachingSqliteConnection;
  /** Kysely's SQLite driver has one connection, so at most one transaction is open. */
  private release: (() => void) | undefined;

  constructor(
    database: BetterSqlite3.Database,
    private readonly lock: WriteLock,
  ) {
    super({ database });
    this.connection = new CachingSqliteConnection(database, lock);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await super.acquireConnection(); // Kysely's mutex around its single connection
    return this.connection;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.release = await this.lock.acquire();
    this.connection.holdsLock = true;
    try {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    } catch (error) {
      this.unlock();
      throw error;
    }
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.commitTransaction(connection);
    } finally {
      this.unlock();
    }
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection);
    } finally {
      this.unlock();
    }
  }

  private unlock(): void {
    const release = this.release;
    this.release = undefined;
    this.connection.holdsLock = false;
    release?.();
  }
}

/** Statements kept prepared; Kysely's `in (?, …)` lists make some queries one-offs. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's better-sqlite3 connection, with a least-recently-used statement cache, and
 * auto-commit writes (outside a transaction, whose begin took the lock already) taking
 * the `WriteLock` too, so no main-thread statement waits for the ingest thread's commit
 * in SQLite's busy handler, asleep on the event loop. SQLite says which statements write
 * (`readonly` is false also for INSERT … RETURNING and for BEGIN IMMEDIATE, true for
 * COMMIT and ROLLBACK).
 */
class CachingSqliteConnection implements DatabaseConnection {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Set by the driver while a transaction holds the lock (BEGIN IMMEDIATE writes). */
  holdsLock = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly lock: WriteLock,
  ) {}

  private prepare(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (statement) {
      this.statements.delete(text);
    } else {
      statement = this.db.prepare(text);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.statements.keys().next();
        if (!oldest.done) this.statements.delete(oldest.value);
      }
    }
    this.statements.set(text, statement);
    return statement;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.prepare(compiledQuery.sql);
    if (statement.readonly || this.holdsLock || this.db.inTransaction) return Promise.resolve(this.run<R>(statement, compiledQuery));
    const release = this.lock.tryAcquire();
    if (release) {
      try {
        return Promise.resolve(this.run<R>(statement, compiledQuery));
      } finally {
        release();
      }
    }
    return this.lock.acquire().then((later) => {
      try {
        return this.run<R>(statement, compiledQuery);
      } finally {
        later();
      }
    });
  }

  private run<R>(statement: BetterSqlite3.Statement, compiledQuery: CompiledQuery): QueryResult<R> {
    // all()/run() run to completion synchronously, so a cached statement is never busy.
    const parameters = compiledQuery.parameters as unknown[];
    if (statement.reader) return { rows: statement.all(parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Not cached: an iterating statement stays busy across yields.
    if (!SelectQueryNode.is(compiledQuery.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    const statement = this.db.prepare(compiledQuery.sql);
    for (const row of statement.iterate(compiledQuery.parameters as unknown[])) yield { rows: [row as R] };
  }
}

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The main-thread end of the ingest worker: posts encoded batches, resolves each write on
 * the worker's ack (sent after the commit returned, i.e. after the fsync). If the thread
 * dies, every pending and later write rejects; none waits forever.
 */
class IngestThread {
  /** Commits the thread acknowledged (one ack answers every batch of a commit). */
  commits = 0;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  private closing = false;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  static start(data: IngestWorkerData): Promise<IngestThread> {
    return new Promise((resolve, reject) => {
      const worker = spawnIngestWorker(data);
      const thread = new IngestThread(worker);
      worker.on('message', (message: FromIngestWorker) => {
        if (message.type === 'ready') {
          worker.unref(); // referenced only while writes are pending
          resolve(thread);
        } else thread.onMessage(message);
      });
      worker.on('error', (error: unknown) => {
        thread.fail(new Error(`ingest writer thread failed: ${describe(error)}`, { cause: error }));
        reject(thread.failure);
      });
      worker.on('messageerror', (error) => {
        thread.fail(new Error(`ingest writer thread: undeliverable message: ${error.message}`, { cause: error }));
        void worker.terminate();
      });
      worker.on('exit', (code) => {
        thread.fail(new Error(thread.closing ? 'ingest writer thread closed' : `ingest writer thread exited (code ${code})`));
        reject(thread.failure);
      });
    });
  }

  write(batch: IngestBatch): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const { encoded, transfer } = encodeBatch(batch);
    return new Promise<void>((resolve, reject) => {
      const message: ToIngestWorker = { type: 'write', id, batch: encoded };
      // Posted first: if that throws, the promise rejects and nothing is left pending. The
      // answer arrives through the event loop, so registering after the post is in time.
      this.worker.postMessage(message, transfer);
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
    });
  }

  throwIfFailed(): void {
    if (this.failure && !this.closing) throw this.failure;
  }

  private onMessage(message: FromIngestWorker): void {
    if (message.type !== 'ack' && message.type !== 'fail') return;
    if (message.type === 'ack') this.commits += 1;
    for (const id of message.ids) {
      const pending = this.pending.get(id);
      if (!pending) continue;
      this.pending.delete(id);
      if (message.type === 'ack') pending.resolve();
      else pending.reject(Object.assign(new Error(`could not store check-ins: ${message.message}`), { code: message.code }));
    }
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Lets queued commits finish, closes the thread's connection and ends it. */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.closing = true;
    if (this.failure) {
      await this.worker.terminate();
      return;
    }
    this.worker.ref();
    const message: ToIngestWorker = { type: 'close' };
    this.worker.postMessage(message);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS);
    });
    const late = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) await this.worker.terminate();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}

/**
 * Compiled (`dist/`), the worker is the `.js` next to this file. Run from the TypeScript
 * sources (vitest, tsx), it is the `.ts`: Node 20 applies no `--import` hooks to a worker's
 * entry, so a tiny ESM bootstrap registers tsx in the thread first, then imports it.
 */
function spawnIngestWorker(workerData: IngestWorkerData): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const script = new URL(`./sqlite-ingest-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSources) return new Worker(script, { workerData });
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(tsxPackage, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const tsxApi = pathToFileURL(join(dirname(tsxPackage), exports['./esm/api']?.import?.default ?? 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(script.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData });
}
