import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '/work/main/dist/store/index.js';
const dir = mkdtempSync(join(tmpdir(), 'smoke-'));
const store = openStore(`sqlite:${join(dir, 'v.db')}`);
await store.migrate();
const now = Date.now();
await sql`insert into apps (id, name, environment, push_key_hash, created_at, updated_at) values (1, 'a', 'p', 'x', ${now}, ${now})`.execute(store.db);
await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (1, 1, 'm', 'cron', 300, ${now}, ${now})`.execute(store.db);
const t = performance.now();
await store.writeIngest({ events: [
  { monitor_id: 1, check_in_type: 'cron', kind: 'start', digest: 'abc', timestamp: 1700000000, received_at: now, hostname: 'h\u0000é😀', exit_code: 3, output: 'out', client_timestamp: 123 },
  { monitor_id: 2, check_in_type: 'cron', kind: 'start', digest: 'abc', timestamp: 1700000000, received_at: now, hostname: null },
  { monitor_id: 1, check_in_type: 'heartbeat', timestamp: 1700000001, received_at: now },
], errors: [{ app_id: 1, identifier: 'x', code: 'c', message: 'm', line: 2, received_at: now }, { app_id: 9, identifier: null, code: 'c', message: 'm', line: null, received_at: now }] });
console.log('first write (incl. worker start)', (performance.now() - t).toFixed(1), 'ms');
console.log((await sql`select typeof(timestamp) t, typeof(received_at) r, typeof(exit_code) e, typeof(monitor_id) m from check_in_events`.execute(store.db)).rows);
console.log((await sql`select * from ingest_errors`.execute(store.db)).rows);
await store.writeTransaction(async (trx) => { await sql`update catalog_version set version = version + 1`.execute(trx); });
await store.db.transaction().execute(async (trx) => { await sql`select 1`.execute(trx); });
await store.ping();
await store.close();
rmSync(dir, { recursive: true });
console.log('closed');
