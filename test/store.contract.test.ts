import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/index.js';
import { StoreKinds, freshDatabase, storeAvailable } from './helpers.js';

/** The contract every store implementation keeps; the same cases run on SQLite and PostgreSQL. */
for (const kind of StoreKinds)
  describe.skipIf(!storeAvailable(kind))(`store contract (${kind})`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let appId: number;
    let monitorIds: number[];

    beforeAll(async () => {
      const database = await freshDatabase(kind);
      drop = database.drop;
      store = openStore(database.url);
      await store.migrate();
      const now = Date.now();
      appId = (await store.db.insertInto('apps').values({ name: 'A', environment: 'production', push_key_hash: 'h', created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow()).id;
      monitorIds = [];
      for (const identifier of ['one', 'two', 'three']) {
        const row = await store.db
          .insertInto('monitors')
          .values({ app_id: appId, identifier, type: 'heartbeat', schedule: null, timezone: null, max_duration: 60, description: '', tags: '[]', notifier_ids: '[]', failure_threshold: 1, recovery_threshold: 1, paused: 0, created_at: now, updated_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
        monitorIds.push(row.id);
      }
    });
    afterAll(async () => {
      await store.close();
      await drop();
    });

    const event = (monitorId: number, timestamp: number) => ({
      monitor_id: monitorId,
      check_in_type: 'heartbeat',
      kind: null,
      digest: null,
      timestamp,
      received_at: timestamp * 1000,
      hostname: 'h',
      exit_code: null,
      output: null,
      client_timestamp: null,
    });

    it('migrates idempotently and knows nothing is pending', async () => {
      expect(await store.migrate()).toEqual([]);
      expect(await store.pendingMigrations()).toBe(0);
      await store.ping();
    });

    it('stores a group commit in order, with epoch-millisecond columns as numbers', async () => {
      const events = [event(monitorIds[0]!, 1_795_748_500), event(monitorIds[1]!, 1_795_748_501), event(monitorIds[0]!, 1_795_748_502)];
      await store.writeIngest({ events, errors: [{ app_id: appId, identifier: 'x', code: 'unknown_identifier', message: 'm', line: 2, received_at: 1_795_748_500_000 }] });
      const rows = await store.db.selectFrom('check_in_events').selectAll().orderBy('id').execute();
      expect(rows.map((r) => [r.monitor_id, r.timestamp, r.received_at])).toEqual(events.map((e) => [e.monitor_id, e.timestamp, e.received_at]));
      expect(typeof rows[0]!.received_at).toBe('number');
      const errors = await store.db.selectFrom('ingest_errors').selectAll().execute();
      expect(errors).toMatchObject([{ identifier: 'x', code: 'unknown_identifier', line: 2, received_at: 1_795_748_500_000 }]);
    });

    it('drops the events of a monitor deleted meanwhile, never failing the others in the commit', async () => {
      const before = (await store.db.selectFrom('check_in_events').select('id').execute()).length;
      await store.db.deleteFrom('monitors').where('id', '=', monitorIds[2]!).execute();
      await store.writeIngest({ events: [event(monitorIds[2]!, 1_795_748_600), event(monitorIds[1]!, 1_795_748_601)], errors: [] });
      const rows = await store.db.selectFrom('check_in_events').selectAll().orderBy('id').execute();
      expect(rows).toHaveLength(before + 1);
      expect(rows[rows.length - 1]!.monitor_id).toBe(monitorIds[1]);
    });

    it('keeps concurrent group commits apart and complete', async () => {
      const before = (await store.db.selectFrom('check_in_events').select('id').execute()).length;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.writeIngest({ events: Array.from({ length: 50 }, (_, j) => event(monitorIds[j % 2]!, 1_795_749_000 + i * 100 + j)), errors: [] })),
      );
      expect((await store.db.selectFrom('check_in_events').select('id').execute()).length).toBe(before + 1000);
    });

    it('rolls a write transaction back when its work fails', async () => {
      await expect(
        store.writeTransaction(async (trx) => {
          await trx.updateTable('monitors').set({ description: 'changed' }).where('id', '=', monitorIds[0]!).execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const row = await store.db.selectFrom('monitors').select('description').where('id', '=', monitorIds[0]!).executeTakeFirstOrThrow();
      expect(row.description).toBe('');
      expect(await store.writeTransaction(async (trx) => (await trx.selectFrom('monitors').select('id').execute()).length)).toBe(2);
    });

    it('numbers check-ins and occurrences past 2^31 (a 32-bit id would stop ingest for good)', async () => {
      const big = 2 ** 31 + 10;
      await store.db.insertInto('check_in_events').values({ ...event(monitorIds[0]!, 1_795_750_000), id: big }).execute();
      const occurrence = { monitor_id: monitorIds[0]!, expected_at: 1, deadline: 2, status: 'success', started_at: null, finished_at: 2, digest: null, updated_at: 3 };
      await store.db.insertInto('occurrences').values({ ...occurrence, id: big }).execute();
      if (kind === 'postgres') {
        for (const table of ['check_in_events', 'occurrences']) await sql`select setval(pg_get_serial_sequence(${table}, 'id'), ${big})`.execute(store.db);
      }
      await store.writeIngest({ events: [event(monitorIds[0]!, 1_795_750_001), event(monitorIds[1]!, 1_795_750_002)], errors: [] });
      const ids = (await store.db.selectFrom('check_in_events').select('id').where('id', '>=', big).orderBy('id').execute()).map((r) => r.id);
      expect(ids).toEqual([big, big + 1, big + 2]);
      const next = await store.db.insertInto('occurrences').values(occurrence).returning('id').executeTakeFirstOrThrow();
      expect(next.id).toBe(big + 1);
      const incident = await store.db
        .insertInto('incidents')
        .values({ monitor_id: monitorIds[0]!, reason: 'missed', opened_at: 1, resolved_at: null, opened_occurrence_id: big + 1, resolved_occurrence_id: null })
        .returning('opened_occurrence_id')
        .executeTakeFirstOrThrow();
      expect(incident.opened_occurrence_id).toBe(big + 1);
    });

    it('never hands out the id of a deleted row again (the evaluator reads check-ins past the last id it judged)', async () => {
      const now = Date.now();
      const doomed = await store.db
        .insertInto('monitors')
        .values({ app_id: appId, identifier: 'doomed', type: 'heartbeat', schedule: null, timezone: null, max_duration: 60, description: '', tags: '[]', notifier_ids: '[]', failure_threshold: 1, recovery_threshold: 1, paused: 0, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await store.writeIngest({ events: [event(doomed.id, 1_795_751_000), event(doomed.id, 1_795_751_001)], errors: [] });
      const newest = await store.db.selectFrom('check_in_events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow();
      // The newest monitor and the newest check-ins go.
      await store.db.deleteFrom('monitors').where('id', '=', doomed.id).execute();
      await store.writeIngest({ events: [event(monitorIds[0]!, 1_795_751_002)], errors: [] });
      const after = await store.db.selectFrom('check_in_events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow();
      expect(Number(after.id)).toBeGreaterThan(Number(newest.id));
      const next = await store.db
        .insertInto('monitors')
        .values({ app_id: appId, identifier: 'next', type: 'heartbeat', schedule: null, timezone: null, max_duration: 60, description: '', tags: '[]', notifier_ids: '[]', failure_threshold: 1, recovery_threshold: 1, paused: 0, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(next.id).toBeGreaterThan(doomed.id);
      await store.db.deleteFrom('monitors').where('id', '=', next.id).execute();
    });

    it('reads and writes the catalog version used to reload other processes', async () => {
      const read = async () => (await store.db.selectFrom('catalog_version').select('version').executeTakeFirstOrThrow()).version;
      const first = await read();
      await store.db.updateTable('catalog_version').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).execute();
      expect(await read()).toBe(Number(first) + 1);
    });
  });
