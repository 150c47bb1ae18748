// Vigil evaluator benchmark: `node bench/evaluator.mjs` (after `npm run build`).
//
// What it does, all on 127.0.0.1, in a temporary directory:
//   1. `node dist/cli/main.js migrate` on a fresh SQLite file, then seeds it directly with
//      better-sqlite3 (one transaction): an app, a webhook notifier pointing at a receiver in
//      this process, and N heartbeat monitors, each already armed exactly as the evaluator
//      leaves a monitor after its first beat (a `running` occurrence, `next_check_at` =
//      deadline + tolerance, the beat in check_in_events and the evaluator cursor past it).
//        - "healthy" monitors (default min(rate × 10, N / 10)) get the check-ins: BENCH_RATE
//          heartbeats/s, round robin, over HTTP (POST /check_ins/heartbeats), so they stay up;
//        - "silent" monitors (default min(N − healthy, 90,000)) never beat again; their
//          deadline + tolerance is spread uniformly over the BENCH_DURATION seconds of load,
//          so each must open exactly one incident and enqueue exactly one delivery;
//        - any other ("quiet") monitors have deadlines hours ahead: they only make the tables big.
//   2. Starts Vigil in its own process (bench/evaluator-server.mjs = `vigil serve` plus pass
//      timing; see that file) so its CPU and memory are measured apart from this load generator.
//   3. Measures Vigil idle (started, nothing due, no traffic) for BENCH_IDLE seconds before
//      the first deadline, then runs the load, waits for the evaluator to catch up and the
//      outbox to drain, prices one idle pass with N forced wake-ups, and measures idle again
//      if the outbox drained.
//   4. Stops Vigil and reads the database: for each incident, the delay from
//      deadline + tolerance to the delivery row (created_at = the pass's clock, and the
//      commit of that pass), delivery delay, missed / duplicate / false incidents.
// Exits 1 on correctness problems (a silent monitor without exactly one incident and one
// delivery, an incident on a monitor that kept beating), 2 on a crash or the watchdog;
// a missed performance target is reported, not an error.
//
// Knobs (environment):
//   BENCH_MONITORS=100000    heartbeat monitors (try 1000000 too; not run by default)
//   BENCH_DURATION=60        seconds of check-in load, over which the silent deadlines fall
//   BENCH_RATE=1000          check-ins per second sent to the healthy monitors
//   BENCH_HEALTHY, BENCH_SILENT   monitor counts (defaults above)
//   BENCH_TOLERANCE=15       VIGIL_INGEST_TOLERANCE in seconds (15 is Vigil's default)
//   BENCH_SPREAD=s           s: deadlines on whole seconds, as real beats produce (bursts);
//                            ms: deadlines at any millisecond (smooth)
//   BENCH_LEAD               seconds from seeding to the first due deadline
//                            (default: 8 + 3 per 100k monitors + BENCH_IDLE)
//   BENCH_CATCHUP=90         max seconds to wait for the evaluator after the load
//   BENCH_DRAIN=60           max seconds to wait for the outbox to drain
//   BENCH_IDLE=15            seconds of idle measurement (before the load, and after it if drained)
//   BENCH_IDLE_PASSES=200    forced idle wake-ups to price one idle pass
//   BENCH_LOG_LEVEL=warn     Vigil's VIGIL_LOG_LEVEL (info logs a line per delivery)
//   BENCH_TIMEOUT            watchdog in seconds (default: everything above + margin)
//   BENCH_CPU_PROF=1         CPU-profile Vigil from the start of the load until it caught up;
//                            prints where the time went (the .cpuprofile is kept in $TMPDIR)
//   BENCH_KEEP=1             keep the temporary directory; BENCH_TMPDIR=/path to place it
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { cpuSeconds, memory, runNode } from './lib/processes.mjs';
import { percentile } from './lib/stats.mjs';
import { summarizeProfile } from './lib/cpuprof.mjs';

const wallStart = Date.now();
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const serverScript = join(here, 'evaluator-server.mjs');

// ---------------------------------------------------------------- settings

function numberEnv(name, fallback, { integer = false, min = 0 } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}: expected ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${raw}"`);
  }
  return value;
}

const monitors = numberEnv('BENCH_MONITORS', 100_000, { integer: true, min: 1 });
const rate = numberEnv('BENCH_RATE', 1000);
const healthyDefault = Math.min(Math.round(rate * 10), Math.floor(monitors / 10));
const healthy = Math.min(monitors, numberEnv('BENCH_HEALTHY', healthyDefault, { integer: true }));
const settings = {
  monitors,
  rate,
  healthy,
  silent: Math.min(monitors - healthy, numberEnv('BENCH_SILENT', Math.min(monitors - healthy, 90_000), { integer: true })),
  duration: numberEnv('BENCH_DURATION', 60, { min: 1 }),
  tolerance: numberEnv('BENCH_TOLERANCE', 15, { integer: true }),
  spread: process.env.BENCH_SPREAD === 'ms' ? 'ms' : 's',
  catchUp: numberEnv('BENCH_CATCHUP', 90),
  drain: numberEnv('BENCH_DRAIN', 60),
  idle: numberEnv('BENCH_IDLE', 15, { min: 1 }),
  idlePasses: numberEnv('BENCH_IDLE_PASSES', 200, { integer: true }),
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  keep: process.env.BENCH_KEEP === '1',
};
settings.quiet = monitors - settings.healthy - settings.silent;
settings.lead = numberEnv('BENCH_LEAD', 8 + Math.ceil((3 * monitors) / 100_000) + settings.idle);
settings.timeout = numberEnv(
  'BENCH_TIMEOUT',
  Math.ceil(120 + monitors / 10_000 + settings.lead + settings.duration + settings.catchUp + settings.drain + 2 * settings.idle + settings.idlePasses / 10),
);
if (settings.healthy === 0 && rate > 0) throw new Error('BENCH_HEALTHY is 0 but BENCH_RATE > 0: nothing to send check-ins to');

const HEALTHY = 1;
const SILENT = 2;
const QUIET = 3;
const HEALTHY_MAX_DURATION = 300; // s, Vigil's default for heartbeats
const SILENT_MAX_DURATION = 300;
const QUIET_MAX_DURATION = 86_400;
const PUSH_KEY = `bench_${randomBytes(18).toString('base64url')}`;
const WEBHOOK_SECRET = randomBytes(24).toString('base64url');
const TARGET_P99_MS = 1000;
const TARGET_MONITORS = 100_000;

// ---------------------------------------------------------------- small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    min: sorted.length ? sorted[0] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}
const f = (v, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const ms = (v) => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? `${f(v)} ms` : `${f(v, 1)} ms`) : '–');

const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// Deterministic PRNG (mulberry32), so two runs seed the same schedule.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- process bookkeeping

let tempDir;
let server; // { child, pid }
let receiver;
let watchdog;

function killServer(signal = 'SIGKILL') {
  const child = server?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}
function cleanup() {
  killServer('SIGKILL');
  receiver?.server.close();
  receiver?.server.closeAllConnections?.();
  if (tempDir && !settings.keep) rmSync(tempDir, { recursive: true, force: true });
  else if (tempDir) console.log(`kept ${tempDir}`);
}
function abort(message, code = 2) {
  console.error(`\nbench/evaluator: ${message}`);
  clearTimeout(watchdog);
  cleanup();
  process.exit(code);
}
process.on('SIGINT', () => abort('interrupted', 130));
process.on('SIGTERM', () => abort('terminated', 143));
process.on('uncaughtException', (error) => abort(error.stack ?? String(error)));
process.on('unhandledRejection', (error) => abort(error?.stack ?? String(error)));

/** Starts bench/evaluator-server.mjs; resolves on its IPC `ready` message. */
function startServer(env, logPath) {
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, [serverScript], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const pending = new Map();
  let nextId = 1;
  const ipc = {
    child,
    pid: child.pid,
    stopping: false,
    ask(type, extra = {}, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`server did not answer "${type}" within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, (m) => {
          clearTimeout(timer);
          if (m.ok) resolve(m);
          else reject(new Error(`server: ${m.error}`));
        });
        child.send({ id, type, ...extra });
      });
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Vigil did not become ready within 300 s (log: ${logPath})`)), 300_000);
    let ready = false;
    child.on('message', (m) => {
      if (m?.type === 'ready') {
        clearTimeout(timer);
        ready = true;
        ipc.port = m.port;
        ipc.startupMs = m.startupMs;
        resolve(ipc);
        return;
      }
      const handler = pending.get(m?.id);
      if (handler) {
        pending.delete(m.id);
        handler(m);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (ipc.stopping) return;
      const error = new Error(`Vigil exited (code ${code}, signal ${signal}); log ${logPath}:\n${tail(logPath)}`);
      if (ready) abort(error.message);
      else reject(error);
    });
  });
}
function tail(path, lines = 20) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
function stopServer(graceMs = 25_000) {
  const child = server.child;
  server.stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, forced: false });
  return new Promise((resolve) => {
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      killServer('SIGKILL');
    }, graceMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, forced });
    });
    killServer('SIGTERM');
  });
}

// ---------------------------------------------------------------- webhook receiver

function startReceiver() {
  const state = { requests: 0, byEvent: {}, uids: new Set(), duplicates: 0 };
  const srv = createServer((req, res) => {
    const uid = req.headers['vigil-delivery'];
    const event = req.headers['vigil-event'] ?? '?';
    req.resume();
    req.on('end', () => {
      state.requests += 1;
      state.byEvent[event] = (state.byEvent[event] ?? 0) + 1;
      if (uid) {
        if (state.uids.has(uid)) state.duplicates += 1;
        else state.uids.add(uid);
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  srv.keepAliveTimeout = 30_000;
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ server: srv, port: srv.address().port, state })));
}

// ---------------------------------------------------------------- seeding

function plan(nowMs) {
  const { monitors: n, tolerance } = settings;
  const role = new Uint8Array(n + 1);
  const deadline = new Float64Array(n + 1);
  const maxDuration = new Uint32Array(n + 1);
  // Healthy monitors spread evenly over the id range, then silent ones evenly over the rest.
  for (let k = 0; k < settings.healthy; k++) role[1 + Math.floor((k * n) / settings.healthy)] = HEALTHY;
  const rest = [];
  for (let id = 1; id <= n; id++) if (role[id] === 0) rest.push(id);
  for (let k = 0; k < settings.silent; k++) role[rest[Math.floor((k * rest.length) / settings.silent)]] = SILENT;
  for (let id = 1; id <= n; id++) if (role[id] === 0) role[id] = QUIET;

  const random = prng(0x5eed);
  const tStart = nowMs + settings.lead * 1000;
  const span = settings.duration * 1000;
  const seedSecond = Math.floor(nowMs / 1000) * 1000;
  for (let id = 1; id <= n; id++) {
    if (role[id] === HEALTHY) {
      maxDuration[id] = HEALTHY_MAX_DURATION;
      deadline[id] = seedSecond + HEALTHY_MAX_DURATION * 1000;
    } else if (role[id] === SILENT) {
      maxDuration[id] = SILENT_MAX_DURATION;
      // Due (deadline + tolerance) uniformly in [tStart, tStart + span).
      let d = tStart + random() * span - tolerance * 1000;
      if (settings.spread === 's') d = Math.ceil(d / 1000) * 1000;
      deadline[id] = Math.round(d);
    } else {
      maxDuration[id] = QUIET_MAX_DURATION;
      // Hours after the run: never due while we watch.
      deadline[id] = Math.ceil((nowMs + 3_600_000 + random() * 20 * 3_600_000) / 1000) * 1000;
    }
  }
  return { role, deadline, maxDuration, tStart, tEnd: tStart + span };
}

/** Writes exactly what the evaluator writes after a heartbeat monitor's first beat. */
function seed(dbPath, receiverPort, p, nowMs) {
  const db = new Database(dbPath);
  db.pragma('synchronous = OFF');
  const created = nowMs - 2 * 86_400_000;
  db.transaction(() => {
    db.prepare('INSERT INTO apps (id, name, environment, push_key_hash, created_at, updated_at) VALUES (1, ?, ?, ?, ?, ?)').run(
      'bench',
      'production',
      createHash('sha256').update(PUSH_KEY).digest('hex'),
      created,
      created,
    );
    db.prepare("INSERT INTO notifiers (id, type, name, config, created_at, updated_at) VALUES (1, 'webhook', 'bench receiver', ?, ?, ?)").run(
      JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hook`, secret: WEBHOOK_SECRET }),
      created,
      created,
    );
    const monitor = db.prepare(
      `INSERT INTO monitors (id, app_id, identifier, type, schedule, timezone, max_duration, description, tags, notifier_ids,
         failure_threshold, recovery_threshold, paused, created_at, updated_at, status, next_check_at, ticks_through, armed_from,
         armed, consecutive_failures, consecutive_successes, open_incident_id, last_success_at, last_failure_at)
       VALUES (?, 1, ?, 'heartbeat', NULL, NULL, ?, '', '[]', '["1"]', 1, 1, 0, ?, ?, 'running', ?, NULL, NULL, 1, 0, 0, NULL, NULL, NULL)`,
    );
    const occurrence = db.prepare(
      `INSERT INTO occurrences (id, monitor_id, expected_at, deadline, status, started_at, finished_at, digest, updated_at)
       VALUES (?, ?, ?, ?, 'running', NULL, NULL, NULL, ?)`,
    );
    const event = db.prepare(
      `INSERT INTO check_in_events (id, monitor_id, check_in_type, kind, digest, timestamp, received_at, hostname, exit_code, output, client_timestamp)
       VALUES (?, ?, 'heartbeat', NULL, NULL, ?, ?, NULL, NULL, NULL, NULL)`,
    );
    for (let id = 1; id <= settings.monitors; id++) {
      const deadline = p.deadline[id];
      const expectedAt = deadline - p.maxDuration[id] * 1000;
      monitor.run(id, `hb-${id}`, p.maxDuration[id], created, created, deadline + settings.tolerance * 1000);
      // The beat that opened the window (its time: expected_at), already evaluated.
      event.run(id, id, Math.floor(expectedAt / 1000), expectedAt);
      occurrence.run(id, id, expectedAt, deadline, Math.min(nowMs, expectedAt));
    }
    db.prepare('UPDATE evaluator_cursor SET last_event_id = ? WHERE id = 1').run(settings.monitors);
    db.prepare('UPDATE catalog_version SET version = version + 1 WHERE id = 1').run();
  })();
  db.close();
}

// ---------------------------------------------------------------- check-in load

function startLoad(port, healthyIds) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const s = { sent: 0, ok: 0, failed: 0, errors: 0, skipped: 0, inflight: 0, latencies: [], statuses: {}, firstError: null };
  const t0 = Date.now();
  let next = 0;
  let stopped = false;
  const MAX_INFLIGHT = 2000;
  const fire = () => {
    const id = healthyIds[next];
    next = (next + 1) % healthyIds.length;
    const started = process.hrtime.bigint();
    s.sent += 1;
    s.inflight += 1;
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: `/check_ins/heartbeats?api_key=${PUSH_KEY}&identifier=hb-${id}`, agent, headers: { 'content-length': 0 } },
      (res) => {
        res.resume();
        res.on('end', () => {
          s.inflight -= 1;
          s.statuses[res.statusCode] = (s.statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode === 200) {
            s.ok += 1;
            s.latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          } else s.failed += 1;
        });
      },
    );
    req.on('error', (error) => {
      s.inflight -= 1;
      s.errors += 1;
      s.firstError ??= error.message;
    });
    req.end();
  };
  const timer = setInterval(() => {
    if (stopped) return;
    const target = Math.floor(((Date.now() - t0) / 1000) * settings.rate);
    while (s.sent + s.skipped < target) {
      if (s.inflight >= MAX_INFLIGHT) s.skipped += 1;
      else fire();
    }
  }, 5);
  return {
    stats: s,
    t0,
    async stop() {
      stopped = true;
      clearInterval(timer);
      const until = Date.now() + 30_000;
      while (s.inflight > 0 && Date.now() < until) await sleep(20);
      agent.destroy();
      return { seconds: (Date.now() - t0) / 1000 };
    },
  };
}

/** Problems met on the way (Vigil unresponsive…), printed with the report. */
const problems = [];
/** Asks the server; on failure (timeout: Vigil stuck) records the problem and returns null. */
async function safeAsk(type, extra = {}, timeoutMs = 30_000) {
  try {
    return await server.ask(type, extra, timeoutMs);
  } catch (error) {
    problems.push(`${type}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

// ---------------------------------------------------------------- idle measurement

/** Vigil's CPU (from /proc) and evaluator wake-ups over `seconds`, after `settleMs`. */
async function measureIdle(seconds, p, settleMs) {
  if (!(seconds >= 1)) return null;
  await sleep(settleMs);
  await safeAsk('reset-loop-delay');
  const stats0 = (await safeAsk('stats'))?.stats;
  const cpu0 = cpuSeconds(server.pid);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const cpu1 = cpuSeconds(server.pid);
  const t1 = Date.now();
  const stats1 = (await safeAsk('stats'))?.stats;
  if (!stats0 || !stats1) return null;
  return {
    seconds: (t1 - t0) / 1000,
    cpuMsPerS: ((cpu1 - cpu0) * 1000) / ((t1 - t0) / 1000),
    wakeUps: stats1.evaluator.passes - stats0.evaluator.passes,
    loopDelayMs: stats1.loopDelayMs,
    rssMiB: memory(server.pid).rssMiB,
  };
}

// ---------------------------------------------------------------- main

async function main() {
  if (!existsSync(cli)) abort('dist/ is missing: run `npm run build` first');
  const load0 = loadavg();
  tempDir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'vigil-bench-eval-'));
  const dbPath = join(tempDir, 'vigil.db');
  const logPath = join(tempDir, 'vigil.log');
  watchdog = setTimeout(() => abort(`watchdog: the run took longer than ${settings.timeout} s (BENCH_TIMEOUT)`), settings.timeout * 1000);

  console.log(
    `Vigil evaluator benchmark: ${f(settings.monitors)} heartbeat monitors (${f(settings.healthy)} healthy, ${f(settings.silent)} silent, ` +
      `${f(settings.quiet)} quiet), ${f(settings.rate)} check-ins/s for ${settings.duration} s, tolerance ${settings.tolerance} s, ` +
      `deadlines on ${settings.spread === 's' ? 'whole seconds' : 'any millisecond'}`,
  );
  let revision = '?';
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').filter(Boolean).length;
    revision = `${head}${dirty ? ` + ${dirty} uncommitted src/ changes` : ''}`;
  } catch {
    // not a git checkout
  }
  console.log(`code: ${revision}; dist/ built ${new Date(statSync(cli).mtimeMs).toISOString()}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${f(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}, load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);

  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    VIGIL_DATABASE_URL: `sqlite:${dbPath}`,
    VIGIL_HOST: '127.0.0.1',
    VIGIL_PORT: '0',
    VIGIL_INGEST_TOLERANCE: String(settings.tolerance),
    VIGIL_LOG_LEVEL: settings.logLevel,
  };
  await runNode([cli, 'migrate'], { env, timeoutMs: 120_000 });

  receiver = await startReceiver();
  const seedStart = Date.now();
  const p = plan(seedStart);
  seed(dbPath, receiver.port, p, seedStart);
  const seedMs = Date.now() - seedStart;
  process.stdout.write(`seeded in ${f(seedMs / 1000, 1)} s; starting Vigil… `);

  server = await startServer(env, logPath);
  const readyAt = Date.now();
  console.log(`ready in ${f(server.startupMs / 1000, 1)} s (first deadline due in ${f((p.tStart - readyAt) / 1000, 1)} s)`);
  if (readyAt > p.tStart) console.log(`WARNING: Vigil became ready after the first deadlines were due; raise BENCH_LEAD`);
  const ro = new Database(dbPath, { readonly: true, fileMustExist: true });
  const qBacklog = ro.prepare('SELECT count(*) AS n FROM monitors WHERE next_check_at <= ?').pluck();
  const qPending = ro.prepare("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'").pluck();
  const qIncidents = ro.prepare('SELECT coalesce(max(id), 0) FROM incidents').pluck();

  // ---- idle before the load: Vigil up, N monitors, nothing due until tStart, no traffic
  const idleBefore = await measureIdle(Math.min(settings.idle, (p.tStart - Date.now() - 3000) / 1000 - 1), p, 2000);

  await server.ask('reset-loop-delay');
  const healthyIds = [];
  for (let id = 1; id <= settings.monitors; id++) if (p.role[id] === HEALTHY) healthyIds.push(id);

  // ---- load phase: from ready until the last silent deadline is due (+1 s)
  if (settings.cpuProf) await server.ask('profile-start');
  const cpuLoad0 = cpuSeconds(server.pid);
  const self0 = selfCpu();
  const load = settings.rate > 0 && healthyIds.length > 0 ? startLoad(server.port, healthyIds) : null;
  const samples = [];
  let lastSample = { t: Date.now(), cpu: cpuLoad0, sent: 0 };
  const sample = () => {
    const t = Date.now();
    const cpu = cpuSeconds(server.pid);
    const sent = load?.stats.ok ?? 0;
    samples.push({
      at: t - p.tStart,
      backlog: qBacklog.get(t),
      incidents: qIncidents.get(),
      pending: qPending.get(),
      cpuPct: ((cpu - lastSample.cpu) / ((t - lastSample.t) / 1000)) * 100,
      checkIns: (sent - lastSample.sent) / ((t - lastSample.t) / 1000),
      rssMiB: memory(server.pid).rssMiB,
      loadavg: loadavg()[0],
    });
    lastSample = { t, cpu, sent };
  };
  const sampler = setInterval(sample, 1000);
  const loadEnd = p.tEnd + 1000;
  while (Date.now() < loadEnd) await sleep(Math.min(500, loadEnd - Date.now()));
  const loadResult = load ? await load.stop() : { seconds: 0 };
  const loadStopAt = Date.now();

  // ---- catch-up: until nothing that is due is left unevaluated
  let caughtUpAt = null;
  const catchUpUntil = Date.now() + settings.catchUp * 1000;
  while (Date.now() < catchUpUntil) {
    if (qBacklog.get(Date.now()) === 0) {
      caughtUpAt = Date.now();
      break;
    }
    await sleep(200);
  }
  clearInterval(sampler);
  sample();
  const cpuLoad1 = cpuSeconds(server.pid);
  const self1 = selfCpu();
  const busyWindow = { from: readyAt, to: Date.now() };
  const statsAfterLoad = (await safeAsk('stats'))?.stats ?? { loopDelayMs: { p99: NaN, max: NaN } };
  const profilePath = join(tempDir, 'evaluator-load.cpuprofile');
  const profiled = settings.cpuProf && (await safeAsk('profile-stop', { path: profilePath }, 120_000)) !== null;

  // ---- drain: until the outbox is empty (delivery is not the evaluator, but idle must be idle)
  const drainStart = Date.now();
  let drainedAt = null;
  let pendingLeft = qPending.get();
  while (Date.now() < drainStart + settings.drain * 1000) {
    pendingLeft = qPending.get();
    if (pendingLeft === 0) {
      drainedAt = Date.now();
      break;
    }
    await sleep(250);
  }
  const cpuDrain = cpuSeconds(server.pid) - cpuLoad1;
  const backlogAfterDrain = qBacklog.get(Date.now());

  // ---- idle after the run: only meaningful once the outbox is empty
  const idleAfter = drainedAt ? await measureIdle(settings.idle, p, 2000) : null;

  // ---- forced idle wake-ups: what one idle pass costs
  let forced = null;
  if (settings.idlePasses > 0) {
    const c0 = cpuSeconds(server.pid);
    const result = (await safeAsk('idle-passes', { n: settings.idlePasses }, 60_000))?.result;
    if (result) forced = { ...result, procCpuS: cpuSeconds(server.pid) - c0 };
    else problems.push('the evaluator did not finish idle wake-ups: its loop looks stuck');
  }

  const memEnd = memory(server.pid);
  const finalStats = (await safeAsk('stats'))?.stats ?? { memory: { heapUsed: NaN, heapTotal: NaN }, evaluator: {} };
  const passLog = (await safeAsk('pass-log', {}, 120_000))?.passLog ?? { start: [], end: [], cpuUs: [], monitors: [], events: [] };
  ro.close();
  const stopped = await stopServer();

  // ---------------------------------------------------------------- analysis (server stopped)
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const incidents = db
    .prepare('SELECT i.id, i.monitor_id, i.reason, i.opened_at, i.resolved_at, o.deadline FROM incidents i LEFT JOIN occurrences o ON o.id = i.opened_occurrence_id')
    .raw()
    .all();
  const deliveries = db.prepare('SELECT incident_id, event, status, attempts, created_at, delivered_at FROM deliveries').raw().all();
  const healthyBad = db
    .prepare("SELECT count(*) FROM monitors WHERE status NOT IN ('running', 'success') AND id IN (SELECT value FROM json_each(?))")
    .pluck()
    .get(JSON.stringify(healthyIds));
  const tableCounts = Object.fromEntries(
    ['occurrences', 'check_in_events', 'incidents', 'deliveries', 'delivery_attempts'].map((t) => [t, db.prepare(`SELECT count(*) FROM ${t}`).pluck().get()]),
  );
  const dbSizeMiB = (db.prepare('PRAGMA page_count').pluck().get() * db.prepare('PRAGMA page_size').pluck().get()) / 2 ** 20;
  db.close();

  const tol = settings.tolerance * 1000;
  const perMonitor = new Uint32Array(settings.monitors + 1);
  const incidentMonitor = new Map();
  let wrongDeadline = 0;
  let wrongReason = 0;
  let resolved = 0;
  for (const [id, monitorId, reason, , resolvedAt, deadline] of incidents) {
    perMonitor[monitorId] += 1;
    incidentMonitor.set(id, monitorId);
    if (reason !== 'missed') wrongReason += 1;
    if (resolvedAt !== null) resolved += 1;
    if (p.role[monitorId] === SILENT && Number(deadline) !== p.deadline[monitorId]) wrongDeadline += 1;
  }
  let expected = 0;
  let opened = 0;
  let missing = 0;
  let duplicates = 0;
  let falseAlarms = 0;
  const horizon = caughtUpAt ?? loadStopAt; // every silent deadline is due before this
  for (let id = 1; id <= settings.monitors; id++) {
    const n = perMonitor[id];
    if (p.role[id] === SILENT) {
      if (p.deadline[id] + tol <= horizon) {
        expected += 1;
        if (n === 0) missing += 1;
      }
      if (n > 0) opened += 1;
      if (n > 1) duplicates += 1;
    } else if (n > 0) falseAlarms += 1;
  }

  // Pass log → commit time of the pass that wrote each delivery (created_at is the pass's `now`).
  const starts = passLog.start;
  const commitOf = (createdAt) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= createdAt) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && createdAt <= passLog.end[found] ? passLog.end[found] : NaN;
  };
  const perIncident = new Map();
  const enqueueDelay = [];
  const commitDelay = [];
  const deliveryDelay = [];
  const endToEnd = [];
  const byBucket = new Map();
  let otherEvents = 0;
  let delivered = 0;
  let failed = 0;
  let unmatched = 0;
  let negative = 0;
  for (const [incidentId, event, status, , createdAt, deliveredAt] of deliveries) {
    if (event !== 'incident.opened') {
      otherEvents += 1;
      continue;
    }
    perIncident.set(incidentId, (perIncident.get(incidentId) ?? 0) + 1);
    const monitorId = incidentMonitor.get(incidentId);
    if (monitorId === undefined || p.role[monitorId] !== SILENT) continue;
    const due = p.deadline[monitorId] + tol;
    const delay = Number(createdAt) - due;
    if (delay < 0) negative += 1;
    enqueueDelay.push(delay);
    const commit = commitOf(Number(createdAt));
    if (Number.isFinite(commit)) commitDelay.push(commit - due);
    else unmatched += 1;
    const bucket = Math.floor((due - p.tStart) / 10_000);
    if (!byBucket.has(bucket)) byBucket.set(bucket, []);
    byBucket.get(bucket).push(Number.isFinite(commit) ? commit - due : delay);
    if (status === 'delivered') {
      delivered += 1;
      deliveryDelay.push(Number(deliveredAt) - Number(createdAt));
      endToEnd.push(Number(deliveredAt) - due);
    } else if (status === 'failed') failed += 1;
  }
  let incidentsWithoutDelivery = 0;
  let incidentsWithExtraDelivery = 0;
  for (const [id] of incidents) {
    const n = perIncident.get(id) ?? 0;
    if (n === 0) incidentsWithoutDelivery += 1;
    if (n > 1) incidentsWithExtraDelivery += 1;
  }

  // Passes during the busy window.
  const busy = { wall: [], cpu: [], monitors: 0, events: 0, n: 0, over500: 0, sumWall: 0, maxMonitors: 0, biggest: null };
  for (let i = 0; i < starts.length; i++) {
    if (starts[i] < busyWindow.from || starts[i] > busyWindow.to) continue;
    const wall = passLog.end[i] - starts[i];
    busy.n += 1;
    busy.wall.push(wall);
    busy.cpu.push(passLog.cpuUs[i] / 1000);
    busy.sumWall += wall;
    busy.monitors += passLog.monitors[i];
    busy.events += passLog.events[i];
    if (wall > 500) busy.over500 += 1;
    if (!busy.biggest || wall > busy.biggest.wall) busy.biggest = { wall, monitors: passLog.monitors[i], events: passLog.events[i], cpu: passLog.cpuUs[i] / 1000 };
  }
  // Back-to-back passes (next starts within 1 ms of the previous end): the evaluator looping
  // on `more` / `again` without returning to the event loop.
  let chain = { from: 0, to: 0, n: 0 };
  for (let i = 0, from = 0; i < starts.length; i++) {
    if (i === 0 || starts[i] - passLog.end[i - 1] > 1) from = i;
    const length = passLog.end[i] - starts[from];
    if (length > chain.to - chain.from) chain = { from: starts[from], to: passLog.end[i], n: i - from + 1 };
  }
  const busySeconds = (busyWindow.to - busyWindow.from) / 1000;
  if (!caughtUpAt) {
    const last = starts.length ? passLog.end[starts.length - 1] : null;
    problems.push(
      last === null
        ? `the evaluator completed no pass at all (${f(backlogAfterDrain)} monitors due): it looks stuck`
        : `the evaluator did not catch up; its last pass ended ${f((busyWindow.to - last) / 1000, 1)} s before the catch-up wait ended (${f(backlogAfterDrain)} monitors still due)`,
    );
  }
  if (load && load.stats.ok === 0 && load.stats.sent > 0) problems.push(`Vigil acknowledged none of the ${f(load.stats.sent)} check-ins sent`);
  const passWall = summary(busy.wall);
  const passCpu = summary(busy.cpu);

  // ---------------------------------------------------------------- report
  const enq = summary(enqueueDelay);
  const com = summary(commitDelay);
  const del = summary(deliveryDelay);
  const e2e = summary(endToEnd);
  const lat = summary(load?.stats.latencies ?? []);
  const loadSecs = loadResult.seconds;
  const vigilLoadCpu = cpuLoad1 - cpuLoad0;
  const load1 = loadavg();
  const rows = [];
  const section = (title) => rows.push(['', ''], [`— ${title}`, '']);
  const row = (k, v) => rows.push([k, v]);

  section('setup');
  row('monitors (healthy / silent / quiet)', `${f(settings.monitors)} (${f(settings.healthy)} / ${f(settings.silent)} / ${f(settings.quiet)})`);
  row('tolerance (VIGIL_INGEST_TOLERANCE)', `${settings.tolerance} s`);
  row('silent deadlines', `${settings.duration} s span, ${settings.spread === 's' ? 'whole seconds' : 'any ms'} (≈${f(settings.silent / settings.duration)} due/s)`);
  row('seed / Vigil start-up', `${f(seedMs / 1000, 1)} s / ${f(server.startupMs / 1000, 1)} s`);
  section('check-in load (this process → Vigil)');
  row('sent / 200 / other / errors / skipped', `${f(load?.stats.sent ?? 0)} / ${f(load?.stats.ok ?? 0)} / ${f(load?.stats.failed ?? 0)} / ${f(load?.stats.errors ?? 0)} / ${f(load?.stats.skipped ?? 0)}`);
  if (load?.stats.firstError) row('first request error', load.stats.firstError);
  if (load?.stats.skipped) row('', '(skipped: not sent because 2,000 requests were already waiting for Vigil)');
  row('achieved rate', `${f((load?.stats.ok ?? 0) / (loadSecs || 1))} check-ins/s over ${f(loadSecs, 1)} s`);
  row('HTTP latency p50 / p99 / max', `${ms(lat.p50)} / ${ms(lat.p99)} / ${ms(lat.max)}`);
  section('evaluator: deadline + tolerance → notification enqueued');
  row('silent monitors due / incidents opened', `${f(expected)} / ${f(opened)}`);
  row('enqueue delay, created_at  p50 / p99 / max', `${ms(enq.p50)} / ${ms(enq.p99)} / ${ms(enq.max)}`);
  row('enqueue delay, committed   p50 / p99 / max', `${ms(com.p50)} / ${ms(com.p99)} / ${ms(com.max)}`);
  row('p99 (committed) per 10 s of due times', [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => ms(summary(v).p99).replace(' ms', '')).join(' ') + ' ms');
  row('caught up', caughtUpAt ? `${f((caughtUpAt - p.tEnd) / 1000, 1)} s after the last deadline was due` : `NO: still behind ${settings.catchUp} s after the load`);
  row('passes (busy window)', `${f(busy.n)} in ${f(busySeconds, 1)} s, busy ${f((busy.sumWall / 1000 / busySeconds) * 100)}% of the time, ${f(busy.over500)} over 500 ms`);
  row('pass wall p50 / p99 / max', `${ms(passWall.p50)} / ${ms(passWall.p99)} / ${ms(passWall.max)}`);
  row('process CPU during a pass p50/p99/max', `${ms(passCpu.p50)} / ${ms(passCpu.p99)} / ${ms(passCpu.max)}`);
  if (busy.biggest) row('longest pass', `${ms(busy.biggest.wall)} (${f(busy.biggest.monitors)} monitors, ${f(busy.biggest.events)} events, ${ms(busy.biggest.cpu)} CPU)`);
  row('monitors / events evaluated', `${f(busy.monitors)} / ${f(busy.events)} (${f(busy.sumWall > 0 ? (busy.sumWall * 1000) / Math.max(1, busy.monitors) : NaN)} µs wall per monitor)`);
  if (chain.n > 0) row('longest run of back-to-back passes', `${ms(chain.to - chain.from)} (${f(chain.n)} passes, at t = ${f((chain.from - p.tStart) / 1000, 1)} s)`);
  row('event-loop delay under load p99 / max', `${ms(statsAfterLoad.loopDelayMs.p99)} / ${ms(statsAfterLoad.loopDelayMs.max)}`);
  row('Vigil CPU under load', `${f((vigilLoadCpu / busySeconds) * 100)}% of one core (${f(vigilLoadCpu, 1)} s CPU in ${f(busySeconds, 1)} s); bench process ${f(((self1 - self0) / busySeconds) * 100)}%`);
  section('outbox delivery (webhook receiver in this process)');
  row('delivered / failed / still pending', `${f(delivered)} / ${f(failed)} / ${f(pendingLeft)}${drainedAt ? '' : ` (not drained within ${settings.drain} s)`}`);
  row('drained', drainedAt ? `${f((drainedAt - p.tEnd) / 1000, 1)} s after the last deadline was due (${f(cpuDrain, 1)} s CPU after catch-up)` : 'no');
  row('created → delivered p50 / p99 / max', `${ms(del.p50)} / ${ms(del.p99)} / ${ms(del.max)}`);
  row('due → delivered p50 / p99 / max', `${ms(e2e.p50)} / ${ms(e2e.p99)} / ${ms(e2e.max)}`);
  row('receiver requests (dup delivery ids)', `${f(receiver.state.requests)} (${f(receiver.state.duplicates)})`);
  section('idle');
  const idleRow = (label, m) =>
    row(label, m ? `${f(m.cpuMsPerS, 2)} ms CPU/s over ${f(m.seconds, 1)} s, ${f(m.wakeUps)} evaluator wake-ups, event-loop delay max ${ms(m.loopDelayMs.max)}` : 'not measured');
  idleRow('Vigil idle before the load', idleBefore);
  idleRow('Vigil idle after the run', idleAfter);
  if (!idleAfter) row('', `(skipped: the outbox still had ${f(pendingLeft)} deliveries pending)`);
  if (forced) {
    row(
      `one idle pass (${f(forced.n)} forced wake-ups)`,
      `${ms(forced.cpuUs / 1000 / forced.n)} CPU, ${ms(forced.wallMs / forced.n)} wall (/proc: ${ms((forced.procCpuS * 1000) / forced.n)})`,
    );
  }
  row('natural idle wake-up interval', 'sleeps until the earliest next_check_at, at most 60 s');
  section('memory (Vigil process)');
  row('RSS at end / peak (VmHWM)', `${f(memEnd.rssMiB)} MiB / ${f(memEnd.peakMiB)} MiB`);
  row('JS heap used / total', `${f(finalStats.memory.heapUsed / 2 ** 20)} MiB / ${f(finalStats.memory.heapTotal / 2 ** 20)} MiB`);
  row('database file', `${f(dbSizeMiB)} MiB (${Object.entries(tableCounts).map(([k, v]) => `${k} ${f(v)}`).join(', ')})`);
  section('correctness');
  row('missing incidents (due, none opened)', f(missing));
  row('monitors with duplicate incidents', f(duplicates));
  row('incidents on monitors that kept beating/quiet', f(falseAlarms));
  row('healthy monitors not running/success', f(healthyBad));
  row('incidents without / with extra deliveries', `${f(incidentsWithoutDelivery)} / ${f(incidentsWithExtraDelivery)}`);
  row('incidents with wrong reason / deadline / resolved', `${f(wrongReason)} / ${f(wrongDeadline)} / ${f(resolved)}`);
  row('other deliveries (not incident.opened)', f(otherEvents));
  row('enqueued before due (negative delay)', f(negative));
  if (unmatched) row('deliveries not matched to a pass', f(unmatched));

  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  console.log(rows.map(([k, v]) => (v === '' ? k : `  ${k.padEnd(width)}${v}`)).join('\n'));

  const every = Math.max(5, Math.ceil(samples.length / 20));
  console.log(`\n  timeline (t = seconds after the first deadline was due; every ${every}th second)`);
  console.log('  ' + ['t', 'check-ins/s', 'Vigil CPU', 'due backlog', 'incidents', 'outbox pending', 'RSS MiB', 'load avg 1m'].map((h) => h.padStart(15)).join(''));
  samples.forEach((s, i) => {
    if (i % every !== every - 1 && i !== samples.length - 1) return;
    console.log('  ' + [f(s.at / 1000), f(s.checkIns), `${f(s.cpuPct)}%`, f(s.backlog), f(s.incidents), f(s.pending), f(s.rssMiB), f(s.loadavg, 2)].map((v) => String(v).padStart(15)).join(''));
  });

  if (profiled) {
    const prof = summarizeProfile(JSON.parse(readFileSync(profilePath, 'utf8')), root, 15);
    // Outside the temporary directory (removed at the end) and outside the repository.
    const kept = join(process.env.BENCH_TMPDIR || tmpdir(), `vigil-evaluator-${settings.monitors}-${Date.now()}.cpuprofile`);
    try {
      copyFileSync(profilePath, kept);
    } catch {
      // keeping the file is a convenience
    }
    console.log(`\n  CPU profile of the load window: ${f(prof.busySeconds, 1)} s busy (kept: ${kept}; open in Chrome DevTools)`);
    const list = (title, items) => {
      console.log(`  ${title}`);
      for (const i of items) console.log(`    ${f(i.pct, 1).padStart(5)}%  ${f(i.ms).padStart(7)} ms  ${i.area ?? `${i.name} ${i.where}`}`);
    };
    list('self time by area:', prof.areas.slice(0, 10));
    list('self time by function:', prof.top.slice(0, 12));
    list('inclusive time, Vigil functions (dist/):', prof.inclusive.slice(0, 15));
  }

  const warnings = readFileSync(logPath, 'utf8').split('\n').filter((l) => /"level":(40|50|60)/.test(l));
  if (warnings.length) {
    console.log(`\n  Vigil logged ${warnings.length} warnings/errors, e.g.:`);
    for (const w of warnings.slice(0, 3)) console.log(`    ${w.slice(0, 300)}`);
  }
  if (stopped.forced || (stopped.code !== 0 && stopped.code !== null)) problems.push(`Vigil did not stop cleanly (code ${stopped.code}, forced ${stopped.forced})`);
  if (problems.length) {
    console.log('\n  PROBLEMS');
    for (const problem of problems) console.log(`    ${problem}`);
  }

  const correctnessProblems = missing + duplicates + falseAlarms + healthyBad + incidentsWithoutDelivery + incidentsWithExtraDelivery + wrongReason + wrongDeadline + otherEvents + negative;
  const pass = com.p99 < TARGET_P99_MS && caughtUpAt !== null && missing === 0;
  const at = settings.monitors === TARGET_MONITORS ? '' : ` (this run: ${f(settings.monitors)} monitors)`;
  console.log(`\n  p99 enqueue delay < 1 s at 100,000 monitors${at}: ${pass ? 'PASS' : 'FAIL'} (committed p99 ${ms(com.p99)}, created_at p99 ${ms(enq.p99)})`);
  console.log(`  correctness: ${correctnessProblems === 0 ? 'OK' : `${correctnessProblems} PROBLEMS`}`);
  console.log(`  load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${load1.map((l) => l.toFixed(2)).join(' ')}; run time ${f((Date.now() - wallStart) / 1000, 1)} s`);

  clearTimeout(watchdog);
  cleanup();
  process.exit(correctnessProblems === 0 ? 0 : 1);
}

await main();
