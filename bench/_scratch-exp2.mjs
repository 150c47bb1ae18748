import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore } from '../dist/store/index.js';

const MONITORS = 200;
const COLS = 'monitor_id, check_in_type, kind, digest, timestamp, received_at, hostname, exit_code, output, client_timestamp';
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
const variant = process.argv[2];
const size = Number(process.argv[3] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'exp-'));
const path = await makeDb(dir);
const db = new Database(path);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
db.pragma(`foreign_keys = ${variant.startsWith('A') ? 'ON' : 'OFF'}`);
db.pragma('wal_autocheckpoint = 0');
const K = 32;
const one = db.prepare(`INSERT INTO check_in_events (${COLS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM monitors WHERE id = ?)`);
const plain = db.prepare(`INSERT INTO check_in_events (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
const multi = db.prepare(`INSERT INTO check_in_events (${COLS}) VALUES ${Array(K).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
const monitorExists = db.prepare('SELECT 1 FROM monitors WHERE id = ?').pluck();
let n = 0;
function makeBatch() {
  const now = Date.now();
  const flat = [];
  for (let i = 0; i < size; i++) {
    const m = (n++ % MONITORS) + 1;
    flat.push(m, 'cron', 'finish', `d${n}`, Math.floor(now / 1000), now, 'bench', null, null, null);
  }
  return flat;
}
let tIns = 0, tCommit = 0, events = 0, commits = 0;
const until = performance.now() + 3000;
while (performance.now() < until) {
  const f = makeBatch();
  const rows = f.length / 10;
  const t0 = performance.now();
  db.exec('BEGIN IMMEDIATE');
  if (variant === 'A' || variant === 'B') {
    for (let r = 0, o = 0; r < rows; r++, o += 10) one.run(f[o], f[o+1], f[o+2], f[o+3], f[o+4], f[o+5], f[o+6], f[o+7], f[o+8], f[o+9], f[o]);
  } else {
    // check each distinct monitor once
    const ok = new Map();
    for (let o = 0; o < f.length; o += 10) { const m = f[o]; if (!ok.has(m)) ok.set(m, monitorExists.get(m) !== undefined); }
    if (variant === 'C') {
      for (let o = 0; o < f.length; o += 10) if (ok.get(f[o])) plain.run(f[o], f[o+1], f[o+2], f[o+3], f[o+4], f[o+5], f[o+6], f[o+7], f[o+8], f[o+9]);
    } else {
      // D: multi-row (all ok assumed here for speed test)
      let o = 0;
      const full = Math.floor(rows / K) * K * 10;
      for (; o < full; o += K * 10) multi.run(f.slice(o, o + K * 10));
      for (; o < f.length; o += 10) plain.run(f[o], f[o+1], f[o+2], f[o+3], f[o+4], f[o+5], f[o+6], f[o+7], f[o+8], f[o+9]);
    }
  }
  const t1 = performance.now();
  db.exec('COMMIT');
  tIns += t1 - t0; tCommit += performance.now() - t1; events += rows; commits++;
  if (commits % 20 === 0) db.pragma('wal_checkpoint(PASSIVE)');
}
console.log(`${variant} size ${size}: insert ${(tIns*1000/events).toFixed(2)} us/ev, commit ${(tCommit*1000/events).toFixed(2)} us/ev, ${Math.round(events/((tIns+tCommit)/1000)).toLocaleString()} ev/s`);
db.close();
rmSync(dir, { recursive: true, force: true });
