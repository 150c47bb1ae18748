// Diagnostic, not part of `npm run bench`: what one group commit of N check-ins costs on
// SQLite with synchronous=FULL, in the shapes Vigil has used, from dist/ (build first).
//
//   node bench/commit-probe.mjs              (about a minute; temporary databases, removed after)
//   PROBE_VARIANTS=before,committer PROBE_SIZES=100,5000 node bench/commit-probe.mjs
//   PROBE_PARTS=variants,store,sustained     which parts to run (default: all three)
//
// Part 1, variants (one thread, back to back, commit time only):
//   before            the old main-thread path: foreign_keys=ON, INSERT … SELECT … WHERE EXISTS
//                     per row, SQLite's automatic checkpoints (every 1000 WAL pages) inside commits
//   nofk+exists       the same statement with foreign_keys=OFF, automatic checkpoints off
//   committer         IngestCommitter, what the ingest worker runs: foreign_keys=OFF, each
//                     distinct monitor checked once per batch, plain INSERT, no automatic
//                     checkpoints (a PASSIVE one after a commit at most every second, timed apart)
//   committer+noindex the same without the check_in_events(monitor_id, id) index (not an
//                     option — the API needs it — only to show what it costs)
// Part 2, store: SqliteStore.writeIngest end to end (encode, post to the worker, commit,
//   ack), i.e. what an ingest request waits for, and the main thread's encode cost.
// Part 3, sustained: 10 s of back-to-back 2,000-event writes through the store:
//   latency percentiles (checkpoint stalls show in p99/max) and the largest WAL file
//   seen (bounded by the checkpoint threshold plus one commit).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { SqliteStore } from '../dist/store/sqlite.js';
import { IngestCommitter, encodeBatch } from '../dist/store/sqlite-ingest.js';

const MONITORS = 200;
const SIZES = (process.env.PROBE_SIZES || '1,10,100,1000,5000').split(',').map(Number);
const BUDGET_MS = Number(process.env.PROBE_BUDGET_MS || 1500); // per size and variant
const VARIANTS = (process.env.PROBE_VARIANTS || 'before,nofk+exists,committer,committer+noindex').split(',').map((v) => v.trim());
const PARTS = (process.env.PROBE_PARTS || 'variants,store,sustained').split(',').map((v) => v.trim());
const EVENT_COLUMNS = 'monitor_id, check_in_type, kind, digest, timestamp, received_at, hostname, exit_code, output, client_timestamp';

let n = 0;
function events(size) {
  const now = Date.now();
  return Array.from({ length: size }, () => {
    const i = n++;
    const m = (i % MONITORS) + 1;
    const cron = m % 2 === 0;
    return {
      monitor_id: m,
      check_in_type: cron ? 'cron' : 'heartbeat',
      kind: cron ? (i % 4 < 2 ? 'start' : 'finish') : null,
      digest: cron ? (i * 2654435761).toString(16).padStart(16, '0') : null,
      timestamp: Math.floor(now / 1000),
      received_at: now,
      hostname: 'bench',
      exit_code: null,
      output: null,
      client_timestamp: null,
    };
  });
}

/** A migrated database with one app and MONITORS monitors; returns its path. */
async function database(dir) {
  const path = join(dir, 'vigil.db');
  const store = new SqliteStore(path);
  await store.migrate();
  const now = Date.now();
  await sql`insert into apps (id, name, environment, push_key_hash, created_at, updated_at) values (1, 'probe', 'production', 'x', ${now}, ${now})`.execute(store.db);
  for (let m = 1; m <= MONITORS; m++) {
    await sql`insert into monitors (id, app_id, identifier, type, max_duration, created_at, updated_at) values (${m}, 1, ${`m-${m}`}, ${m % 2 === 0 ? 'cron' : 'heartbeat'}, 300, ${now}, ${now})`.execute(store.db);
  }
  await store.close();
  return path;
}

function percentiles(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** The statement of the old main-thread path (`WHERE EXISTS` per row). */
function existsWriter(path, { foreignKeys, autoCheckpoint }) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  db.pragma(`wal_autocheckpoint = ${autoCheckpoint ? 1000 : 0}`);
  const insert = db.prepare(`INSERT INTO check_in_events (${EVENT_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM monitors WHERE id = ?)`);
  const transaction = db.transaction((rows) => {
    for (const e of rows) {
      insert.run(e.monitor_id, e.check_in_type, e.kind, e.digest, e.timestamp, e.received_at, e.hostname, e.exit_code, e.output, e.client_timestamp, e.monitor_id);
    }
  });
  return {
    commit: (rows) => transaction.immediate(rows),
    checkpoint: () => (autoCheckpoint ? undefined : db.pragma('wal_checkpoint(PASSIVE)')),
    close: () => db.close(),
  };
}

async function variant(name) {
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'vigil-probe-'));
  try {
    const path = await database(dir);
    if (name.includes('noindex')) {
      const db = new Database(path);
      db.exec('DROP INDEX check_in_events_monitor_id');
      db.close();
    }
    let writer;
    let encodeMs = 0;
    if (name.startsWith('committer')) {
      const committer = new IngestCommitter(path);
      writer = {
        commit: (rows) => {
          const t = performance.now();
          const { encoded } = encodeBatch({ events: rows, errors: [] });
          encodeMs += performance.now() - t;
          committer.commit(encoded);
        },
        checkpoint: () => committer.maybeCheckpoint(true),
        close: () => committer.close(),
      };
    } else if (name === 'before') writer = existsWriter(path, { foreignKeys: true, autoCheckpoint: true });
    else if (name === 'nofk+exists') writer = existsWriter(path, { foreignKeys: false, autoCheckpoint: false });
    else throw new Error(`unknown variant ${name}`);
    const rows = [];
    let lastCheckpoint = performance.now();
    for (const size of SIZES) {
      const times = [];
      const checkpoints = [];
      encodeMs = 0;
      const until = performance.now() + BUDGET_MS;
      while (performance.now() < until || times.length < 3) {
        const batch = events(size);
        const t = performance.now();
        writer.commit(batch);
        times.push(performance.now() - t);
        if (performance.now() - lastCheckpoint >= 1000) {
          const c = performance.now();
          writer.checkpoint();
          lastCheckpoint = performance.now();
          checkpoints.push(lastCheckpoint - c);
        }
      }
      const p = percentiles(times);
      const total = times.reduce((a, b) => a + b, 0) + checkpoints.reduce((a, b) => a + b, 0);
      rows.push({
        name,
        size,
        commits: times.length,
        ...p,
        usPerEvent: (total * 1000) / (times.length * size),
        encodeUs: (encodeMs * 1000) / (times.length * size),
        checkpointMax: checkpoints.length ? Math.max(...checkpoints) : NaN,
      });
    }
    writer.close();
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (x, d = 2, w = 9) => (Number.isFinite(x) ? x.toFixed(d) : '-').padStart(w);

if (PARTS.includes('variants')) {
  console.log('Part 1: commit cost by write path (one thread, back to back)');
  console.log('variant              events/commit  commits   p50 ms   p90 ms   max ms  µs/event¹  encode µs/ev²  checkpoint max ms³');
  for (const v of VARIANTS) {
    for (const r of await variant(v)) {
      console.log(
        `${r.name.padEnd(20)} ${String(r.size).padStart(13)} ${String(r.commits).padStart(8)} ${f(r.p50)}${f(r.p90)}${f(r.max)} ${f(r.usPerEvent, 1, 10)} ${f(r.encodeUs, 3, 14)} ${f(r.checkpointMax, 1, 19)}`,
      );
    }
  }
  console.log('¹ commits and checkpoints, per event   ² main-thread cost of encodeBatch (committer only)   ³ PASSIVE, between commits');
  console.log('');
}

if (PARTS.includes('store')) {
  console.log('Part 2: SqliteStore.writeIngest end to end (encode + post to the worker + commit + ack)');
  console.log('events/write   writes   p50 ms   p90 ms   max ms  events/s (one write at a time)');
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'vigil-probe-'));
  try {
    const store = new SqliteStore(await database(dir));
    await store.migrate();
    await store.writeIngest({ events: events(1), errors: [] }); // starts the worker
    for (const size of SIZES) {
      const times = [];
      const until = performance.now() + BUDGET_MS;
      while (performance.now() < until || times.length < 3) {
        const batch = { events: events(size), errors: [] };
        const t = performance.now();
        await store.writeIngest(batch);
        times.push(performance.now() - t);
      }
      const p = percentiles(times);
      console.log(`${String(size).padStart(12)} ${String(times.length).padStart(8)} ${f(p.p50)}${f(p.p90)}${f(p.max)} ${Math.round((size / p.p50) * 1000).toLocaleString('en-US').padStart(9)}`);
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('');
}

if (PARTS.includes('sustained')) {
  const checkpointMiB = Number(process.env.PROBE_CHECKPOINT_MIB || 32);
  console.log(`Part 3: sustained writes through the store, 2,000 events each, 10 s, checkpoint at ${checkpointMiB} MiB of WAL (PROBE_CHECKPOINT_MIB)`);
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'vigil-probe-'));
  try {
    const path = await database(dir);
    const store = new SqliteStore(path, { checkpointBytes: checkpointMiB * 2 ** 20 });
    await store.migrate();
    const times = [];
    let walMax = 0;
    let count = 0;
    const started = performance.now();
    while (performance.now() - started < 10_000) {
      const batch = { events: events(2000), errors: [] };
      const t = performance.now();
      await store.writeIngest(batch);
      times.push(performance.now() - t);
      count += 2000;
      try {
        walMax = Math.max(walMax, statSync(`${path}-wal`).size);
      } catch {
        // no WAL file at this instant
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const p = percentiles(times);
    await store.close();
    console.log(`writes ${times.length}, ${Math.round(count / seconds).toLocaleString('en-US')} events/s; latency p50 ${p.p50.toFixed(1)} ms, p90 ${p.p90.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms; largest WAL file seen ${(walMax / 2 ** 20).toFixed(1)} MiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
