// Vigil ingest benchmark: `npm run bench` (builds first).
//
// Starts, on 127.0.0.1 only, a bare node:http baseline (bench/bare-server.mjs), the same
// bare server answering only after a group-committed fdatasync of each body (the durable
// baseline: what any server with durable acks pays on this machine, at the least) and a
// Vigil server on a fresh SQLite database in a temporary directory, each in its own
// process; drives both with the same autocannon settings from this process; prints a
// table with throughput, latency and the ratio to the baseline; then checks that every
// acknowledged check-in is in the database. Stops by itself (a watchdog bounds the whole
// run) and kills only the processes it started, by PID.
//
// Knobs (environment):
//   BENCH_DURATION=10            measured seconds per scenario
//   BENCH_WARMUP=1               warm-up seconds before each (not measured)
//   BENCH_CONNECTIONS=10,100     connections for single heartbeats
//   BENCH_BATCH_CONNECTIONS=10,100  connections for NDJSON batches
//   BENCH_BATCH_SIZE=100         check-ins per NDJSON request
//   BENCH_MONITORS=100           heartbeat monitors and cron monitors (each)
//   BENCH_ONLY=single|batch      run one family only
//   BENCH_DURABLE=0              skip the durable baseline
//   BENCH_CPU_PROF=1             run Vigil with --cpu-prof; prints the hottest functions (main thread,
//                                then the SQLite ingest writer thread)
//   BENCH_NODE_ARGS="--perf-basic-prof"  extra node options for the Vigil server (space-separated),
//                                e.g. for `perf record -g -p <vigil pid>` (the pid is printed)
//   BENCH_TIMEOUT=300            watchdog, seconds
//   BENCH_KEEP=1                 keep the temporary directory (database, server logs)
//   BENCH_TMPDIR=/path           where the temporary directory goes (default os.tmpdir())
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { measure } from './lib/load.mjs';
import { killAll, memory, runNode, startNode, stop } from './lib/processes.mjs';
import { summarizeProfile } from './lib/cpuprof.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const resultsDir = join(here, 'results');

function numberEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a non-negative number, got "${raw}"`);
  return value;
}
function listEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: expected a comma-separated list of positive integers, got "${raw}"`);
    return n;
  });
}

const settings = {
  duration: numberEnv('BENCH_DURATION', 10),
  warmup: numberEnv('BENCH_WARMUP', 1),
  connections: listEnv('BENCH_CONNECTIONS', [10, 100]),
  batchConnections: listEnv('BENCH_BATCH_CONNECTIONS', [10, 100]),
  batchSize: numberEnv('BENCH_BATCH_SIZE', 100),
  monitors: numberEnv('BENCH_MONITORS', 100),
  only: process.env.BENCH_ONLY ?? '',
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  timeout: numberEnv('BENCH_TIMEOUT', 300),
  keep: process.env.BENCH_KEEP === '1',
  durable: process.env.BENCH_DURABLE !== '0',
  nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
};
const TARGET_SINGLE_RATIO = 0.75;
const TARGET_BATCH_EVENTS = 150_000;

const started = performance.now();
const loadAtStart = loadavg();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
const say = (message) => process.stdout.write(`[${elapsed().padStart(5)} s] ${message}\n`);

// ---------------------------------------------------------------------------------------
// Cleanup: whatever happens, the children die and the temporary directory goes.

let workDir;
function cleanup() {
  killAll();
  if (workDir && !settings.keep) {
    try {
      rmSync(workDir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`);
    cleanup();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench: watchdog: still running after ${settings.timeout} s, giving up\n`);
  cleanup();
  process.exit(2);
}, settings.timeout * 1000);
watchdog.unref();

/**
 * How long the disk under the database takes to make a 4 KiB append durable (what
 * SQLite's WAL commit with synchronous=FULL waits for), in ms: { p50, p90 }.
 */
function fsyncProbe(dir, count = 40) {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 7);
  const times = [];
  try {
    for (let i = 0; i < count; i++) {
      writeSync(fd, page, 0, page.length, i * page.length);
      const t = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count * 0.5)], p90: times[Math.floor(count * 0.9)] };
}

// ---------------------------------------------------------------------------------------
// Request payloads: identical bytes go to the baseline and to Vigil.

function heartbeatRequests(key, monitors) {
  return Array.from({ length: monitors }, (_, i) => ({
    method: 'POST',
    path: `/check_ins/heartbeats?api_key=${encodeURIComponent(key)}&identifier=hb-${i + 1}`,
  }));
}

function hex16(n) {
  return (n * 2654435761 + 0x9e3779b9).toString(16).padStart(16, '0').slice(-16);
}

function ndjsonBody(variant, size, monitors, timestamp) {
  const lines = [];
  for (let i = 0; i < size; i++) {
    const n = variant * size + i;
    const m = (n % monitors) + 1;
    if (i % 2 === 0) {
      const kind = (n >> 1) % 2 === 0 ? 'start' : 'finish';
      lines.push(JSON.stringify({ identifier: `cron-${m}`, digest: hex16(n >> 1), kind, timestamp, check_in_type: 'cron' }));
    } else {
      lines.push(JSON.stringify({ identifier: `hb-${m}`, timestamp, check_in_type: 'heartbeat' }));
    }
  }
  return lines.join('\n'); // no trailing newline
}

function batchRequests(key, size, monitors) {
  const timestamp = Math.floor(Date.now() / 1000);
  const path = `/check_ins/json?api_key=${encodeURIComponent(key)}&name=Bench&environment=production&hostname=bench`;
  return Array.from({ length: 16 }, (_, variant) => ({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-ndjson' },
    body: ndjsonBody(variant, size, monitors, timestamp),
  }));
}

// ---------------------------------------------------------------------------------------
// Vigil setup.

async function api(port, token, method, path, body) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function inParallel(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

async function post(port, path, body) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body });
  return { status: response.status, text: await response.text() };
}

// ---------------------------------------------------------------------------------------
// Output.

const fmt = {
  int: (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'),
  ms: (n) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '-'),
  ratio: (n) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-'),
  pct: (n) => (Number.isFinite(n) ? `${Math.round(n)}%` : '-'),
};

function table(headers, rows, rightAlign) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (rightAlign[i] ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm run bench does)`);
  workDir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'vigil-bench-'));
  const dbPath = join(workDir, 'vigil.db');
  let fsType = '?';
  try {
    fsType = execFileSync('stat', ['-f', '-c', '%T', workDir], { encoding: 'utf8' }).trim();
  } catch {
    // not essential
  }
  say(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; ` +
      `database ${dbPath} (${fsType})`,
  );
  const fsync = fsyncProbe(workDir);
  say(`fdatasync of a 4 KiB append there: p50 ${fsync.p50.toFixed(2)} ms, p90 ${fsync.p90.toFixed(2)} ms`);
  say(
    `settings: ${settings.warmup} s warm-up + ${settings.duration} s per scenario; single connections ${settings.connections.join(',')}; ` +
      `batch connections ${settings.batchConnections.join(',')} x ${settings.batchSize} check-ins`,
  );

  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    VIGIL_DATABASE_URL: `sqlite:${dbPath}`,
    VIGIL_HOST: '127.0.0.1',
    VIGIL_PORT: '0',
    VIGIL_LOG_LEVEL: 'info',
  };

  // Setup through the CLI: app (push key), then an admin user and an API token for REST.
  const lastLine = (out) => out.trim().split('\n').at(-1).trim();
  const key = lastLine(await runNode([cli, 'app', 'create', '--name', 'Bench'], { env }));
  await runNode([cli, 'user', 'create', '--email', 'bench@example.com', '--password', 'benchpass1', '--role', 'admin'], { env });
  const token = lastLine(await runNode([cli, 'token', 'create', '--email', 'bench@example.com'], { env }));
  say('app, user and token created via the CLI');

  const profDir = join(workDir, 'cpuprof');
  const vigilArgs = [
    '--enable-source-maps',
    ...(settings.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ...settings.nodeArgs,
    cli,
    'serve',
  ];
  const [vigil, bare, durable] = await Promise.all([
    startNode('vigil', vigilArgs, {
      env,
      logPath: join(workDir, 'vigil.log'),
      ready: (l) => l.msg === 'vigil listening' && Number.isInteger(l.port),
    }),
    startNode('bare server', [join(here, 'bare-server.mjs')], {
      env: { PATH: process.env.PATH },
      logPath: join(workDir, 'bare.log'),
      ready: (l) => l.msg === 'bare listening' && Number.isInteger(l.port),
    }),
    settings.durable
      ? startNode('durable bare server', [join(here, 'bare-server.mjs')], {
          env: { PATH: process.env.PATH, BARE_DURABLE_FILE: join(workDir, 'durable.log') },
          logPath: join(workDir, 'durable-bare.log'),
          ready: (l) => l.msg === 'bare listening' && Number.isInteger(l.port),
        })
      : null,
  ]);
  const vigilPort = vigil.line.port;
  const barePort = bare.line.port;
  const vigilPid = vigil.child.pid;
  let vigilCrashed = null;
  let stopping = false;
  vigil.child.on('exit', (code, signal) => {
    if (!stopping) vigilCrashed = { code, signal };
  });
  const baselines = {
    bare: { port: barePort, pid: bare.child.pid, label: 'bare node:http' },
    ...(durable ? { durable: { port: durable.line.port, pid: durable.child.pid, label: 'bare + fdatasync' } } : {}),
  };
  say(
    `vigil pid ${vigilPid} on port ${vigilPort}; ` +
      Object.values(baselines)
        .map((b) => `${b.label} pid ${b.pid} on port ${b.port}`)
        .join('; '),
  );

  const monitorIds = Array.from({ length: settings.monitors }, (_, i) => i + 1);
  await inParallel(
    [
      ...monitorIds.map((i) => ({ identifier: `hb-${i}`, body: { type: 'heartbeat', max_duration: 300 } })),
      ...monitorIds.map((i) => ({ identifier: `cron-${i}`, body: { type: 'cron', schedule: '* * * * *', max_duration: 300 } })),
    ],
    8,
    ({ identifier, body }) => api(vigilPort, token, 'PUT', `/api/v1/apps/1/monitors/by-identifier/${identifier}`, body),
  );
  say(`${settings.monitors} heartbeat + ${settings.monitors} cron monitors created via the REST API`);

  const singles = heartbeatRequests(key, settings.monitors);
  const batches = batchRequests(key, settings.batchSize, settings.monitors);
  const singleBody = '{"accepted":1,"rejected":[]}';
  const batchBody = `{"accepted":${settings.batchSize},"rejected":[]}`;

  // Smoke test: both endpoints answer what the load generator will expect, on both servers.
  let acknowledged = 0;
  let inFlightBound = 0;
  for (const [name, port] of [['vigil', vigilPort], ...Object.entries(baselines).map(([key, b]) => [key, b.port])]) {
    const one = await post(port, singles[0].path);
    const many = await post(port, batches[0].path, batches[0].body);
    if (one.status !== 200 || one.text !== singleBody || many.status !== 200 || many.text !== batchBody) {
      throw new Error(`${name} smoke test failed: single → ${one.status} ${one.text}; batch → ${many.status} ${many.text.slice(0, 500)}`);
    }
    if (name === 'vigil') acknowledged += 1 + settings.batchSize;
  }
  say('smoke test passed (single heartbeat and NDJSON batch accepted by both servers)');

  // Scenarios: baseline and Vigil back to back for each setting, so drift hits both.
  const scenarios = [];
  if (settings.only !== 'batch') {
    for (const c of settings.connections) {
      for (const target of Object.keys(baselines)) scenarios.push({ family: 'single', target, connections: c });
      scenarios.push({ family: 'single', target: 'vigil', connections: c });
    }
  }
  if (settings.only !== 'single') {
    for (const c of settings.batchConnections) {
      for (const target of Object.keys(baselines)) scenarios.push({ family: 'batch', target, connections: c });
      scenarios.push({ family: 'batch', target: 'vigil', connections: c });
    }
  }
  const estimate = scenarios.length * (settings.warmup + settings.duration);
  say(`running ${scenarios.length} scenarios, about ${estimate} s`);

  const results = [];
  for (const s of scenarios) {
    if (vigilCrashed) break;
    const isVigil = s.target === 'vigil';
    const eventsPerRequest = s.family === 'batch' ? settings.batchSize : 1;
    const commits0 = isVigil ? await metric(vigilPort, 'vigil_ingest_commits_total') : NaN;
    const evaluatorBusy0 = isVigil ? await metric(vigilPort, 'vigil_evaluator_busy_seconds_total') : NaN;
    const r = await measure({
      port: isVigil ? vigilPort : baselines[s.target].port,
      requests: s.family === 'batch' ? batches : singles,
      connections: s.connections,
      duration: settings.duration,
      warmup: settings.warmup,
      expectBody: s.family === 'batch' ? batchBody : singleBody,
      eventsPerRequest,
      serverPid: isVigil ? vigilPid : baselines[s.target].pid,
    });
    const name = `${isVigil ? 'vigil' : baselines[s.target].label} ${s.family === 'batch' ? `batch x${settings.batchSize}` : 'single heartbeat'}`;
    const row = { ...s, name, eventsPerRequest, ...r };
    if (isVigil) {
      acknowledged += r.acknowledgedEvents + r.warmupAcknowledged;
      // When autocannon stops, each connection may have one request unanswered, which
      // Vigil still commits: at most this many rows beyond the acknowledged ones.
      inFlightBound += s.connections * eventsPerRequest * (settings.warmup > 0 ? 2 : 1);
      // Includes the warm-up's commits: an approximation of events per group commit.
      const commits = (await metric(vigilPort, 'vigil_ingest_commits_total')) - commits0;
      row.commits = commits;
      row.eventsPerCommit = commits > 0 ? (r.acknowledgedEvents + r.warmupAcknowledged) / commits : NaN;
      // The evaluator shares the event loop with ingest: its share of the scenario's wall time.
      const busy = (await metric(vigilPort, 'vigil_evaluator_busy_seconds_total')) - evaluatorBusy0;
      row.evaluatorPct = (100 * busy) / (settings.duration + settings.warmup);
      row.rss = memory(vigilPid);
    }
    results.push(row);
    const problems = r.non2xx + r.errors + r.timeouts + r.mismatches;
    say(
      `${name.padEnd(30)} c=${String(s.connections).padEnd(3)} ${fmt.int(r.reqPerSec).padStart(7)} req/s  ` +
        `${fmt.int(r.eventsPerSec).padStart(9)} events/s  p50 ${fmt.ms(r.latencyMs.p50)} ms  p99 ${fmt.ms(r.latencyMs.p99)} ms  ` +
        `server CPU ${fmt.pct(r.serverCpuPct)}, client CPU ${fmt.pct(r.clientCpuPct)}` +
        (problems ? `  PROBLEMS: ${JSON.stringify({ statusCodes: r.statusCodes, errors: r.errors, timeouts: r.timeouts, mismatches: r.mismatches })}` : ''),
    );
  }

  // Final state of Vigil, then a graceful stop (which commits anything still queued).
  const finalMemory = vigilCrashed ? { rssMiB: NaN, peakMiB: NaN } : memory(vigilPid);
  const writerCommits = vigilCrashed ? NaN : await metric(vigilPort, 'vigil_ingest_commits_total');
  stopping = true;
  const stopStarted = performance.now();
  const vigilExit = await stop(vigil.child);
  const stopSeconds = (performance.now() - stopStarted) / 1000;
  await stop(bare.child);
  if (durable) await stop(durable.child);
  say(`servers stopped (vigil exit code ${vigilExit.code}, signal ${vigilExit.signal}${vigilExit.forced ? ', had to SIGKILL' : ''}, ${stopSeconds.toFixed(2)} s)`);

  // Correctness: every acknowledged check-in must be a row.
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const eventRows = db.prepare('SELECT count(*) AS n FROM check_in_events').get().n;
  const errorRows = db.prepare('SELECT count(*) AS n FROM ingest_errors').get().n;
  const dbBytes = statSync(dbPath).size;
  db.close();

  // Anything Vigil logged at warn (40) or above.
  const serverProblems = [];
  for (const line of readFileSync(vigil.logPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let parsed;
    try {
      parsed = JSON.parse(line);
    } catch {
      serverProblems.push(line); // stderr output, a stack trace…
      continue;
    }
    if (typeof parsed.level === 'number' && parsed.level >= 40) serverProblems.push(line);
  }

  let profile = null;
  const threadProfiles = [];
  if (settings.cpuProf && existsSync(profDir)) {
    // One file per thread (CPU.<date>.<pid>.<thread>.<seq>.cpuprofile): the main thread
    // first, then worker threads (the SQLite ingest writer).
    const files = readdirSync(profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort();
    mkdirSync(resultsDir, { recursive: true });
    files.forEach((file, i) => {
      const kept = join(resultsDir, i === 0 ? 'vigil.cpuprofile' : `vigil-thread-${i}.cpuprofile`);
      writeFileSync(kept, readFileSync(join(profDir, file)));
      const summary = { path: kept, ...summarizeProfile(JSON.parse(readFileSync(kept, 'utf8')), root) };
      if (i === 0) profile = summary;
      else threadProfiles.push(summary);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Report.

  const baselineFor = (row, target) => results.find((b) => b.target === target && b.family === row.family && b.connections === row.connections);
  const rows = results.map((row) => {
    const bare = baselineFor(row, 'bare');
    const ratio = row.target !== 'bare' && bare ? row.reqPerSec / bare.reqPerSec : NaN;
    const durableBase = row.target === 'vigil' ? baselineFor(row, 'durable') : undefined;
    row.durableRatio = durableBase ? row.reqPerSec / durableBase.reqPerSec : NaN;
    let target = '';
    if (row.target === 'vigil' && row.family === 'single') {
      row.ratio = ratio;
      row.pass = ratio >= TARGET_SINGLE_RATIO;
      target = `>= ${TARGET_SINGLE_RATIO}x bare: ${row.pass ? 'PASS' : 'FAIL'}`;
    } else if (row.target === 'vigil' && row.family === 'batch') {
      row.ratio = ratio;
      row.pass = row.eventsPerSec >= TARGET_BATCH_EVENTS;
      target = `>= ${fmt.int(TARGET_BATCH_EVENTS)} ev/s: ${row.pass ? 'PASS' : 'FAIL'}`;
    }
    return [
      row.name,
      row.connections,
      fmt.int(row.reqPerSec),
      fmt.int(row.eventsPerSec),
      fmt.ms(row.latencyMs.p50),
      fmt.ms(row.latencyMs.p99),
      row.target === 'bare' ? '(baseline)' : fmt.ratio(ratio),
      row.target === 'vigil' ? fmt.ratio(row.durableRatio) : '',
      fmt.pct(row.serverCpuPct),
      fmt.pct(row.clientCpuPct),
      row.non2xx + row.errors + row.timeouts + row.mismatches,
      target,
    ];
  });

  const out = [];
  out.push('');
  out.push(`Vigil ingest benchmark — ${settings.duration} s per scenario after ${settings.warmup} s warm-up, autocannon, 127.0.0.1, pipelining 1`);
  out.push(
    `${cpus().length} CPUs, load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; ` +
      `database on ${fsType}, fdatasync p50 ${fsync.p50.toFixed(2)} ms / p90 ${fsync.p90.toFixed(2)} ms`,
  );
  out.push('');
  out.push(
    table(
      ['scenario', 'conns', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'vs bare', 'vs durable', 'srv CPU', 'cli CPU', 'non-2xx/err', 'target'],
      rows,
      [false, true, true, true, true, true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push('vs bare = req/s ÷ bare node:http req/s with the same requests and connections.');
  if (durable) {
    out.push(
      'vs durable = Vigil req/s ÷ the durable baseline\'s (bare node:http answering after a group-committed fdatasync of each body ' +
        'to a preallocated log: the least a server with durable acks pays here).',
    );
  }
  out.push('srv CPU / cli CPU = CPU used by the server process / by the load generator (100% = one core).');
  const vigilRows = results.filter((r) => r.target === 'vigil');
  if (vigilRows.length) {
    out.push(
      'group commit: ' +
        vigilRows.map((r) => `${r.family} c=${r.connections}: ${fmt.int(r.eventsPerCommit)} events/commit`).join('; ') +
        ` (${fmt.int(writerCommits)} commits in total)`,
    );
    out.push(
      'evaluator (share of the main thread): ' +
        vigilRows.map((r) => `${r.family} c=${r.connections}: ${r.evaluatorPct.toFixed(1)}%`).join('; '),
    );
  }
  out.push('');
  const totalProblems = results.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts + r.mismatches + r.warmupProblems, 0);
  const dbOk = eventRows >= acknowledged && eventRows <= acknowledged + inFlightBound;
  out.push('Checks');
  out.push(`  acknowledged check-ins (2xx x events per request, incl. warm-ups and smoke test): ${fmt.int(acknowledged)}`);
  const verdict =
    eventRows < acknowledged ? `MISSING ${fmt.int(acknowledged - eventRows)} ROWS` : eventRows > acknowledged + inFlightBound ? 'TOO MANY ROWS (duplicates?)' : 'OK';
  out.push(
    `  rows in check_in_events after shutdown: ${fmt.int(eventRows)} → ${verdict} ` +
      `(expected acknowledged .. acknowledged + ${fmt.int(inFlightBound)} unanswered in flight when a run stopped; here +${fmt.int(eventRows - acknowledged)})`,
  );
  out.push(`  rows in ingest_errors: ${fmt.int(errorRows)}${errorRows ? ' (expected 0)' : ''}`);
  out.push(`  non-2xx / connection errors / timeouts / body mismatches: ${totalProblems ? totalProblems : 'none'}`);
  for (const r of results) {
    const p = r.non2xx + r.errors + r.timeouts + r.mismatches;
    if (p) out.push(`    ${r.name} c=${r.connections}: status ${JSON.stringify(r.statusCodes)}, errors ${r.errors}, timeouts ${r.timeouts}, mismatches ${r.mismatches}`);
    if (r.warmupProblems) out.push(`    ${r.name} c=${r.connections} warm-up: ${r.warmupProblems} non-2xx/errors/mismatches`);
  }
  out.push(`  vigil: ${vigilCrashed ? `CRASHED during the run (${JSON.stringify(vigilCrashed)})` : 'no crash'}; ` +
    `graceful stop ${vigilExit.forced ? 'TIMED OUT (SIGKILL)' : `exit ${vigilExit.code}`} in ${stopSeconds.toFixed(2)} s`);
  out.push(`  vigil log lines at warn or above: ${serverProblems.length}`);
  for (const l of serverProblems.slice(0, 5)) out.push(`    ${l.slice(0, 300)}`);
  out.push(`  vigil memory at end: RSS ${finalMemory.rssMiB.toFixed(1)} MiB (peak ${finalMemory.peakMiB.toFixed(1)} MiB); database ${(dbBytes / 2 ** 20).toFixed(1)} MiB`);
  if (profile) {
    out.push('');
    out.push(`CPU profile of Vigil (${profile.path}): ${profile.busySeconds.toFixed(1)} s busy of ${profile.totalSeconds.toFixed(1)} s sampled; top self time (% of busy):`);
    out.push(
      table(
        ['self %', 'self ms', 'function', 'where'],
        profile.top.map((f) => [f.pct.toFixed(1), fmt.int(f.ms), f.name, f.where]),
        [true, true, false, false],
      ),
    );
    out.push('');
    out.push('by area (self time, grouped by file/category):');
    out.push(
      table(
        ['self %', 'area'],
        profile.areas.map((a) => [a.pct.toFixed(1), a.area]),
        [true, false],
      ),
    );
    for (const t of threadProfiles) {
      out.push('');
      out.push(`Worker thread (${t.path}): ${t.busySeconds.toFixed(1)} s busy of ${t.totalSeconds.toFixed(1)} s sampled; top self time:`);
      out.push(
        table(
          ['self %', 'self ms', 'function', 'where'],
          t.top.slice(0, 8).map((f) => [f.pct.toFixed(1), fmt.int(f.ms), f.name, f.where]),
          [true, true, false, false],
        ),
      );
    }
  }
  out.push('');
  out.push(`total time ${elapsed()} s`);
  process.stdout.write(`${out.join('\n')}\n`);

  mkdirSync(resultsDir, { recursive: true });
  // Results are machine-specific: keep them out of git without touching the root .gitignore.
  if (!existsSync(join(resultsDir, '.gitignore'))) writeFileSync(join(resultsDir, '.gitignore'), '*\n');
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    filesystem: fsType,
    fsyncMs: fsync,
    loadAtStart,
    settings,
    targets: { singleRatio: TARGET_SINGLE_RATIO, batchEventsPerSec: TARGET_BATCH_EVENTS },
    results,
    checks: {
      acknowledged,
      inFlightBound,
      eventRows,
      errorRows,
      dbOk,
      totalProblems,
      vigilCrashed,
      vigilExit,
      stopSeconds,
      serverProblems,
      finalMemory,
      writerCommits,
    },
    profile: profile ? { path: profile.path, top: profile.top, areas: profile.areas } : null,
    threadProfiles: threadProfiles.map((t) => ({ path: t.path, busySeconds: t.busySeconds, top: t.top })),
    totalSeconds: Number(elapsed()),
  };
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  say(`results written to ${join(resultsDir, 'latest.json')}`);

  const failed = !dbOk || vigilCrashed || totalProblems > 0;
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (error) => {
    process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
    if (workDir) process.stderr.write(`(server logs were in ${workDir}; set BENCH_KEEP=1 to keep them)\n`);
    cleanup();
    process.exit(1);
  },
);
