import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationProvider } from './migrations.js';
import { SqliteStore } from './sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const snapshot = async (s: SqliteStore, table: string): Promise<unknown[]> =>
  (await sql`select * from ${sql.table(table)} order by id`.execute(s.db)).rows;

describe('migration 0005 on a SQLite database made before it', () => {
  it('keeps every row, id, index and cascade, and hands out no deleted id again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
    dirs.push(dir);
    const store = new SqliteStore(join(dir, 'vigil.db'));
    try {
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.capabilities) });
      expect((await migrator.migrateTo('0004_big_ids')).error).toBeUndefined();
      const db = store.db;
      await sql`insert into apps (id, name, environment, push_key_hash, created_at, updated_at) values (1, 'a', 'production', 'h', 1, 1)`.execute(db);
      for (const id of [1, 2]) {
        await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (${id}, 1, ${`m${id}`}, 'heartbeat', 60, 1, 1)`.execute(db);
      }
      for (const [id, monitor] of [
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 2],
      ]) {
        await sql`insert into check_in_events (id, monitor_id, check_in_type, timestamp, received_at) values (${id}, ${monitor}, 'heartbeat', ${1_795_748_500 + id!}, 1)`.execute(db);
      }
      await sql`insert into occurrences (id, monitor_id, expected_at, deadline, status, updated_at) values (1, 2, 1, 2, 'missed', 3)`.execute(db);
      await sql`insert into incidents (id, monitor_id, reason, opened_at, opened_occurrence_id) values (1, 2, 'missed', 3, 1)`.execute(db);
      await sql`insert into notifiers (id, type, name, config, created_at, updated_at) values (1, 'webhook', 'n', '{}', 1, 1)`.execute(db);
      await sql`insert into deliveries (id, uid, notifier_id, incident_id, event, payload, status, next_attempt_at, created_at) values (1, 'u', 1, 1, 'incident.opened', '{}', 'pending', 1, 1)`.execute(db);
      await sql`insert into ingest_errors (id, app_id, code, message, received_at) values (1, 1, 'unknown_identifier', 'm', 1)`.execute(db);
      const tables = ['apps', 'monitors', 'check_in_events', 'occurrences', 'incidents', 'notifiers', 'deliveries', 'ingest_errors'];
      const before = await Promise.all(tables.map((t) => snapshot(store, t)));
      const indexes = async () =>
        (await sql<{ name: string }>`select name from sqlite_master where type = 'index' order by name`.execute(db)).rows.map((r) => r.name);
      const indexesBefore = await indexes();

      expect(await store.migrate()).toEqual(['0005_ids_never_reused']);

      expect(await Promise.all(tables.map((t) => snapshot(store, t)))).toEqual(before);
      expect(await indexes()).toEqual(indexesBefore);
      const ddl = (await sql<{ sql: string }>`select sql from sqlite_master where name = 'check_in_events'`.execute(db)).rows[0]!.sql;
      expect(ddl).toMatch(/"id" integer primary key autoincrement/);
      expect((await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db)).rows[0]!.foreign_keys).toBe(1);
      // Deleting monitor 2 still cascades to its check-ins, windows, incidents and deliveries…
      await sql`delete from monitors where id = 2`.execute(db);
      for (const [table, left] of [
        ['check_in_events', 2],
        ['occurrences', 0],
        ['incidents', 0],
        ['deliveries', 0],
      ] as const) {
        expect(await snapshot(store, table)).toHaveLength(left);
      }
      // …and its ids (the newest check-ins, the newest monitor) are not handed out again.
      await store.writeIngest({
        events: [{ monitor_id: 1, check_in_type: 'heartbeat', kind: null, digest: null, timestamp: 1_795_748_600, received_at: 1, hostname: null, exit_code: null, output: null, client_timestamp: null }],
        errors: [],
      });
      expect(((await snapshot(store, 'check_in_events')) as { id: number }[]).map((r) => r.id)).toEqual([1, 2, 5]);
      const monitor = await sql<{ id: number }>`insert into monitors (app_id, identifier, type, max_duration, created_at, updated_at) values (1, 'm3', 'heartbeat', 60, 1, 1) returning id`.execute(db);
      expect(monitor.rows[0]!.id).toBe(3);
    } finally {
      await store.close();
    }
  });
});
