import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore } from '../dist/store/index.js';

const MONITORS = 200;
async function makeDb(dir) {
  const path = join(dir, 'v.db');
  const store = openStore(`sqlite:${path}`);
  await store.migrate();
  const now = Date.now();
  await sql`insert into apps (id, name, environment, push_key_hash, created_at, updated_at) values (1, 'probe', 'production', 'x', ${now}, ${now})`.execute(store.db);
  for (let m = 1; m <= MONITORS; m++) await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (${m}, 1, ${`m-${m}`}, 'cron', 300, ${now}, ${now})`.execute(store.db);
  await store.close();
  return path;
}
const variant = process.argv[2] ?? 'base';
const dir = mkdtempSync(join(tmpdir(), 'exp-'));
const path = await makeDb(dir);
const db = new Database(path);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
db.pragma(`foreign_keys = ${variant.includes('nofk') ? 'OFF' : 'ON'}`);
db.pragma('wal_autocheckpoint = 0');
if (variant.includes('noindex')) db.exec('DROP INDEX check_in_events_monitor_id');
if (variant.includes('cache')) db.pragma('cache_size = -65536');
const exists = !variant.includes('noexists');
const ins = db.prepare(`INSERT INTO check_in_events (monitor_id, check_in_type, kind, digest, timestamp, received_at, hostname, exit_code, output, client_timestamp)
  SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? ${exists ? 'WHERE EXISTS (SELECT 1 FROM monitors WHERE id = ?)' : ''}`);
let n = 0;
const wal = join(dir, 'v.db-wal');
for (const size of [100, 1000, 5000, 20000]) {
  let tIns = 0, tCommit = 0, commits = 0, walBefore = statSync(wal).size, events = 0;
  const until = performance.now() + 1500;
  while (performance.now() < until) {
    const now = Date.now();
    const t0 = performance.now();
    db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < size; i++) {
      const m = (n++ % MONITORS) + 1;
      const args = [m, 'cron', 'finish', `d${n}`, Math.floor(now / 1000), now, 'bench', null, null, null];
      if (exists) args.push(m);
      ins.run(...args);
    }
    const t1 = performance.now();
    db.exec('COMMIT');
    const t2 = performance.now();
    tIns += t1 - t0; tCommit += t2 - t1; commits++; events += size;
  }
  const walBytes = statSync(wal).size - walBefore;
  const tCk0 = performance.now();
  const ck = db.pragma('wal_checkpoint(TRUNCATE)');
  const tCk = performance.now() - tCk0;
  console.log(`${variant.padEnd(16)} size ${String(size).padStart(6)} commits ${String(commits).padStart(5)}  insert ${(tIns*1000/events).toFixed(2)} us/ev  commit ${(tCommit/commits).toFixed(2)} ms (${(tCommit*1000/events).toFixed(2)} us/ev)  WAL ${(walBytes/events).toFixed(0)} B/ev, ${(walBytes/commits/4120).toFixed(0)} pages/commit; checkpoint ${tCk.toFixed(0)} ms (${(tCk*1000/events).toFixed(2)} us/ev) total ${((tIns+tCommit+tCk)*1000/events).toFixed(2)} us/ev`);
}
db.close();
rmSync(dir, { recursive: true, force: true });
