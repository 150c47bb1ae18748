import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewCheckInEvent } from './schema.js';
import { encodeBatch, IngestCommitter } from './sqlite-ingest.js';
import { SqliteStore } from './sqlite.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-ingest-'));
  dirs.push(dir);
  return join(dir, 'vigil.db');
}

/** A migrated file store with one app and two heartbeat monitors (ids 1 and 2). */
async function store(path = dbPath(), options: ConstructorParameters<typeof SqliteStore>[1] = {}): Promise<SqliteStore> {
  const s = new SqliteStore(path, options);
  stores.push(s);
  await s.migrate();
  const now = Date.now();
  await sql`insert into apps (id, name, environment, push_key_hash, created_at, updated_at) values (1, 'a', 'production', 'h', ${now}, ${now})`.execute(s.db);
  for (const id of [1, 2]) {
    await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (${id}, 1, ${`m${id}`}, 'heartbeat', 60, ${now}, ${now})`.execute(s.db);
  }
  return s;
}

const event = (monitorId: number, i = 0): NewCheckInEvent => ({
  monitor_id: monitorId,
  check_in_type: i % 2 ? 'cron' : 'heartbeat',
  kind: i % 2 ? 'finish' : null,
  digest: i % 2 ? `d${i}` : null,
  timestamp: 1_795_748_500 + i,
  received_at: 1_795_748_500_000 + i,
  hostname: 'h',
  exit_code: null,
  output: null,
  client_timestamp: null,
});

const count = async (s: SqliteStore): Promise<number> =>
  Number((await sql<{ n: number }>`select count(*) as n from check_in_events`.execute(s.db)).rows[0]!.n);

/** The private ingest thread's Worker, to kill it. */
const workerOf = (s: SqliteStore): { terminate(): Promise<number> } => (s as any).ingestThread.worker;

describe('SQLite ingest encoding', () => {
  it('round-trips every column, nulls, repeated and non-ASCII strings through the committer', () => {
    const path = dbPath();
    const setup = new BetterSqlite3(path);
    setup.pragma('journal_mode = WAL');
    setup.exec(`create table monitors (id integer primary key); create table apps (id integer primary key);
      create table check_in_events (id integer primary key, monitor_id integer, check_in_type text, kind text, digest text, timestamp bigint, received_at bigint, hostname text, exit_code integer, output text, client_timestamp bigint);
      create table ingest_errors (id integer primary key, app_id integer, identifier text, code text, message text, line integer, received_at bigint);
      insert into monitors values (1); insert into apps values (1);`);
    const events: NewCheckInEvent[] = [
      { ...event(1, 1), hostname: 'h\u0000é😀', exit_code: 3, output: 'line1\nline2', client_timestamp: 1_700_000_000 },
      { ...event(1, 2), hostname: 'h\u0000é😀', exit_code: 0 },
      { ...event(9, 3) }, // no such monitor: dropped
      { monitor_id: 1, check_in_type: 'heartbeat', timestamp: 5, received_at: 6 }, // optional columns absent
    ];
    const errors = [
      { app_id: 1, identifier: null, code: 'c', message: 'm', line: null, received_at: 7 },
      { app_id: 2, identifier: 'x', code: 'c', message: 'm', line: 1, received_at: 7 }, // no such app: dropped
    ];
    const committer = new IngestCommitter(path);
    committer.commit(encodeBatch({ events, errors }).encoded);
    committer.close();
    const rows = setup.prepare('select * from check_in_events order by id').all();
    expect(rows).toEqual([
      { id: 1, ...events[0] },
      { id: 2, ...events[1], output: null, client_timestamp: null },
      { id: 3, monitor_id: 1, check_in_type: 'heartbeat', kind: null, digest: null, timestamp: 5, received_at: 6, hostname: null, exit_code: null, output: null, client_timestamp: null },
    ]);
    expect(setup.prepare('select typeof(timestamp) as t, typeof(exit_code) as e from check_in_events where id = 1').get()).toEqual({ t: 'integer', e: 'integer' });
    expect(setup.prepare('select app_id, identifier, line from ingest_errors').all()).toEqual([{ app_id: 1, identifier: null, line: null }]);
    setup.close();
  });
});

describe('SqliteStore in memory', () => {
  it('commits ingest on the main connection, dropping the events of a monitor deleted meanwhile', async () => {
    const s = await store(':memory:');
    expect(s.groupsIngestCommits).toBe(false);
    await sql`delete from monitors where id = 2`.execute(s.db);
    await s.writeIngest({ events: [event(1), event(2), event(1, 1)], errors: [] });
    expect(await count(s)).toBe(2);
    expect(s.ingestCommits).toBe(1);
  });
});

describe('SqliteStore ingest thread', () => {
  it('stores a batch of many events in arrival order, whole chunks and the rest alike, skipping a deleted monitor', async () => {
    const s = await store();
    await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (3, 1, 'm3', 'cron', 60, 1, 1)`.execute(s.db);
    await sql`delete from monitors where id = 3`.execute(s.db);
    const events = Array.from({ length: 75 }, (_, i) => event(1 + (i % 3), i));
    await s.writeIngest({ events, errors: [] });
    const rows = await sql<{ monitor_id: number; timestamp: number; digest: string | null }>`select monitor_id, timestamp, digest from check_in_events order by id`.execute(s.db);
    const kept = events.filter((e) => e.monitor_id !== 3);
    expect(rows.rows.map((r) => [r.monitor_id, Number(r.timestamp), r.digest])).toEqual(kept.map((e) => [e.monitor_id, e.timestamp, e.digest]));
    expect(kept).toHaveLength(50);
  });

  it('commits on the thread; every write resolves after its rows are visible to the main connection', async () => {
    const s = await store();
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.writeIngest({ events: [event(1, i), event(2, i)], errors: [] })));
    expect(await count(s)).toBe(20);
  });

  it('merges the writes that waited for a commit into the next one, and acknowledges each', async () => {
    const path = dbPath();
    const s = await store(path);
    await s.writeIngest({ events: [event(1)], errors: [] }); // the thread is up
    const before = s.ingestCommits;
    // Another connection holds the write lock: the thread's next commit waits for it…
    const other = new BetterSqlite3(path);
    other.prepare('BEGIN IMMEDIATE').run();
    const first = s.writeIngest({ events: [event(1, 1)], errors: [] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // …while 30 more writes queue behind it.
    const rest = Array.from({ length: 30 }, (_, i) => s.writeIngest({ events: [event(2, i), event(1, i)], errors: [] }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    other.prepare('COMMIT').run();
    other.close();
    await Promise.all([first, ...rest]);
    expect(await count(s)).toBe(1 + 1 + 60);
    expect(s.ingestCommits - before).toBe(2);
  });

  it('fails only the batch whose content breaks a constraint when it shared a commit with good ones', async () => {
    const path = dbPath();
    const s = await store(path);
    await s.writeIngest({ events: [event(1)], errors: [] }); // the thread is up
    // No check-in that passes the parser breaks a constraint today: a trigger stands in for one.
    await sql`create trigger poison before insert on check_in_events when new.digest = 'poison' begin select raise(abort, 'poisoned'); end`.execute(s.db);
    const before = s.ingestCommits;
    const other = new BetterSqlite3(path);
    other.prepare('BEGIN IMMEDIATE').run();
    // Everything posted while another connection holds the write lock joins one commit.
    const poisoned = { ...event(1, 1), digest: 'poison' };
    const writes = [
      s.writeIngest({ events: [event(1, 2)], errors: [] }),
      s.writeIngest({ events: [event(2, 4), poisoned], errors: [] }),
      s.writeIngest({ events: [event(2, 6)], errors: [] }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50));
    other.prepare('COMMIT').run();
    other.close();
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/poisoned/);
    const rows = await sql<{ monitor_id: number; timestamp: number }>`select monitor_id, timestamp from check_in_events order by id`.execute(s.db);
    expect(rows.rows.map((r) => [r.monitor_id, Number(r.timestamp)])).toEqual([
      [1, 1_795_748_500],
      [1, 1_795_748_502],
      [2, 1_795_748_506],
    ]);
    // The good batches were committed alone after the merged commit failed.
    expect(s.ingestCommits - before).toBe(2);
  });

  it('fails the writes waiting behind a locked database together, not one busy timeout each', async () => {
    const path = dbPath();
    const s = await store(path, { busyTimeoutMs: 300 });
    await s.writeIngest({ events: [event(1)], errors: [] });
    const other = new BetterSqlite3(path);
    other.prepare('BEGIN IMMEDIATE').run();
    const started = Date.now();
    const writes = Array.from({ length: 20 }, (_, i) => s.writeIngest({ events: [event(1, i)], errors: [] }));
    const outcomes = await Promise.allSettled(writes);
    const elapsed = Date.now() - started;
    other.prepare('ROLLBACK').run();
    other.close();
    expect(outcomes.every((o) => o.status === 'rejected' && /SQLITE_BUSY|locked/i.test(String(o.reason)))).toBe(true);
    // Retried one by one, the last would have waited 20 × 300 ms.
    expect(elapsed).toBeLessThan(3000);
    // The store works again once the other connection let go.
    await s.writeIngest({ events: [event(2)], errors: [] });
    expect(await count(s)).toBe(2);
  });

  it('rejects pending and later writes when the thread dies, and /readyz (ping) fails', async () => {
    const s = await store();
    await s.writeIngest({ events: [event(1)], errors: [] });
    const big = { events: Array.from({ length: 50_000 }, (_, i) => event(1 + (i % 2), i)), errors: [] };
    const pending = s.writeIngest(big);
    await workerOf(s).terminate();
    await expect(pending).rejects.toThrow(/ingest writer thread/);
    await expect(s.writeIngest({ events: [event(1)], errors: [] })).rejects.toThrow(/ingest writer thread/);
    await expect(s.ping()).rejects.toThrow(/ingest writer thread/);
    await s.close();
  });

  it('rejects (never hangs) when the thread cannot start: no schema', async () => {
    const s = new SqliteStore(dbPath());
    stores.push(s);
    await expect(s.writeIngest({ events: [event(1)], errors: [] })).rejects.toThrow(/no such table/);
    await expect(s.writeIngest({ events: [event(1)], errors: [] })).rejects.toThrow(/no such table/);
  });

  it('close() lets queued writes commit, then ends the thread', async () => {
    const path = dbPath();
    const s = await store(path);
    const writes = Array.from({ length: 5 }, (_, i) => s.writeIngest({ events: Array.from({ length: 1000 }, (_, j) => event(1, i * 1000 + j)), errors: [] }));
    const closed = s.close();
    await Promise.all(writes);
    await closed;
    await expect(s.writeIngest({ events: [event(1)], errors: [] })).rejects.toThrow(/closed/);
    const check = new BetterSqlite3(path, { readonly: true });
    expect(check.prepare('select count(*) as n from check_in_events').get()).toEqual({ n: 5000 });
    check.close();
  });

  it('runs Kysely transactions that read then write while ingest commits, without SQLITE_BUSY', async () => {
    const s = await store();
    await s.writeIngest({ events: [event(1)], errors: [] });
    const ingest = Array.from({ length: 30 }, (_, i) => s.writeIngest({ events: Array.from({ length: 200 }, (_, j) => event(2, i * 200 + j)), errors: [] }));
    const transactions = Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? s.db.transaction().execute.bind(s.db.transaction()) : s.writeTransaction.bind(s))(async (trx) => {
        const before = await trx.selectFrom('check_in_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        await new Promise((resolve) => setTimeout(resolve, 2));
        await trx.updateTable('catalog_version').set({ version: Number(before.n) }).where('id', '=', 1).execute();
        // Nothing committed in between: the transaction held the write lock.
        const after = await trx.selectFrom('check_in_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        expect(after.n).toBe(before.n);
      }),
    );
    await Promise.all([...ingest, ...transactions]);
    expect(await count(s)).toBe(1 + 30 * 200);
  });

  it('keeps the WAL bounded by checkpointing between commits', async () => {
    const path = dbPath();
    const s = await store(path, { checkpointBytes: 2 * 2 ** 20, walLimitBytes: 8 * 2 ** 20 });
    let largest = 0;
    for (let i = 0; i < 40; i++) {
      await s.writeIngest({ events: Array.from({ length: 2000 }, (_, j) => ({ ...event(1 + (j % 2), j), output: 'x'.repeat(100) })), errors: [] });
      largest = Math.max(largest, statSync(`${path}-wal`).size);
    }
    expect(await count(s)).toBe(80_000);
    // The threshold plus one commit (about 0.5 MiB here).
    expect(largest).toBeLessThan(4 * 2 ** 20);
  });
});
