// Diagnostic, not part of `npm run bench`: how long one group commit of N check-ins
// takes in Vigil's SqliteStore (dist/, so build first), i.e. how long the event loop is
// blocked per commit, with synchronous=FULL (Vigil's setting) and variants for comparison.
//
//   node bench/commit-probe.mjs            (about 20 s; temporary database, removed after)
//   PROBE_VARIANTS=FULL,NORMAL,FULL+noindex,FULL+ckpt10000,FULL+cache64m node bench/commit-probe.mjs
//
// Variants: FULL / NORMAL = synchronous mode; +noindex drops check_in_events_monitor_id;
// +ckpt10000 sets wal_autocheckpoint=10000 pages; +cache64m sets cache_size to 64 MiB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../dist/store/index.js';

const MONITORS = 200;
const SIZES = [1, 10, 50, 500, 5000];
const BUDGET_MS = 1500; // per size and mode

function event(n, now) {
  const m = (n % MONITORS) + 1;
  const cron = m % 2 === 0;
  return {
    monitor_id: m,
    check_in_type: cron ? 'cron' : 'heartbeat',
    kind: cron ? 'finish' : null,
    digest: cron ? `d${n}` : null,
    timestamp: Math.floor(now / 1000),
    received_at: now,
    hostname: 'bench',
    exit_code: null,
    output: null,
  };
}

async function probe(variant) {
  const [mode, ...extras] = variant.split('+');
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'vigil-probe-'));
  const store = openStore(`sqlite:${join(dir, 'vigil.db')}`);
  try {
    await store.migrate();
    const now = Date.now();
    await sql`insert into apps (id, name, environment, push_key_hash, created_at, updated_at) values (1, 'probe', 'production', 'x', ${now}, ${now})`.execute(store.db);
    for (let m = 1; m <= MONITORS; m++) {
      await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (${m}, 1, ${`m-${m}`}, ${m % 2 === 0 ? 'cron' : 'heartbeat'}, 300, ${now}, ${now})`.execute(store.db);
    }
    // Diagnostic only: reach the private better-sqlite3 handle to try another mode.
    if (mode !== 'FULL') store.raw.pragma(`synchronous = ${mode}`);
    if (extras.includes('noindex')) store.raw.exec('DROP INDEX check_in_events_monitor_id');
    if (extras.includes('ckpt10000')) store.raw.pragma('wal_autocheckpoint = 10000');
    if (extras.includes('cache64m')) store.raw.pragma('cache_size = -65536');
    const rows = [];
    let n = 0;
    for (const size of SIZES) {
      const times = [];
      const until = performance.now() + BUDGET_MS;
      while (performance.now() < until || times.length < 3) {
        const events = Array.from({ length: size }, () => event(n++, Date.now()));
        const t = performance.now();
        await store.writeIngest({ events, errors: [] });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const p50 = times[Math.floor(times.length / 2)];
      rows.push({
        mode: variant,
        size,
        commits: times.length,
        p50ms: p50,
        p90ms: times[Math.floor(times.length * 0.9)],
        maxms: times[times.length - 1],
        usPerEvent: (p50 * 1000) / size,
        eventsPerSec: (size / p50) * 1000,
      });
    }
    return rows;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const variants = (process.env.PROBE_VARIANTS || 'FULL,NORMAL').split(',').map((v) => v.trim());
const rows = [];
for (const v of variants) rows.push(...(await probe(v)));
const f = (n, d = 2) => n.toFixed(d).padStart(9);
console.log('variant          events/commit  commits   p50 ms   p90 ms   max ms  µs/event  events/s (one thread, back to back)');
for (const r of rows) {
  console.log(
    `${r.mode.padEnd(16)} ${String(r.size).padStart(13)} ${String(r.commits).padStart(8)} ${f(r.p50ms)}${f(r.p90ms)}${f(r.maxms)} ${f(r.usPerEvent, 1)} ${Math.round(r.eventsPerSec).toLocaleString('en-US').padStart(9)}`,
  );
}
