import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite.js';
import type { NewCheckInEvent } from '../store/index.js';
import { IngestWriter } from './writer.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function fileStore(): Promise<{ store: SqliteStore; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-writer-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'vigil.db');
  const store = new SqliteStore(path);
  cleanup.push(() => store.close());
  await store.migrate();
  const now = Date.now();
  await sql`insert into apps (id, name, environment, push_key_hash, created_at, updated_at) values (1, 'a', 'production', 'h', ${now}, ${now})`.execute(store.db);
  await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (1, 1, 'm', 'heartbeat', 60, ${now}, ${now})`.execute(store.db);
  return { store, path };
}

const events = (n: number): NewCheckInEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    monitor_id: 1,
    check_in_type: 'heartbeat',
    kind: null,
    digest: null,
    timestamp: 1_795_748_500 + i,
    received_at: 1_795_748_500_000 + i,
    hostname: null,
    exit_code: null,
    output: null,
    client_timestamp: null,
  }));

describe('IngestWriter', () => {
  it('refuses new check-ins (not_ready) while too many wait for a stalled disk, and stores every one it took', async () => {
    const { store, path } = await fileStore();
    const writer = new IngestWriter(store, 100);
    await writer.write(events(1), []); // the ingest thread is up
    // Another connection holds the write lock: commits stall.
    const other = new BetterSqlite3(path);
    other.prepare('BEGIN IMMEDIATE').run();
    const first = writer.write(events(60), []);
    await new Promise((resolve) => setImmediate(resolve));
    const second = writer.write(events(50), []);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(writer.write(events(1), [])).rejects.toMatchObject({ code: 'not_ready' });
    other.prepare('COMMIT').run();
    other.close();
    await Promise.all([first, second]);
    const rows = await sql<{ n: number }>`select count(*) as n from check_in_events`.execute(store.db);
    expect(Number(rows.rows[0]!.n)).toBe(111);
    // Once committed, it takes check-ins again.
    await writer.write(events(1), []);
    await writer.stop();
  });
});
