// Child process of bench/evaluator.mjs: the same thing as `vigil serve` (Vigil.create with
// loadConfig() from the VIGIL_* environment, then start()), plus read-only instrumentation
// the benchmark needs and /metrics does not expose:
//   - every evaluator pass is timed (wall clock, this process's CPU, monitors and events it
//     evaluated) by wrapping Evaluator.prototype.runPass from the outside — src/ is unchanged;
//   - event-loop delay (perf_hooks), so stalls of the single SQLite connection show up;
//   - on request, N back-to-back idle wake-ups (evaluator.runOnce()) to price one idle pass;
//   - on request, a V8 CPU profile of a window (node:inspector), written to a given path.
// It talks to the parent over the IPC channel only, and exits when the parent goes away.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => pathToFileURL(join(root, 'dist', path)).href;
const { Vigil } = await import(dist('server.js'));
const { loadConfig } = await import(dist('config.js'));
const { Evaluator } = await import(dist('evaluation/evaluator.js'));

if (typeof process.send !== 'function') {
  console.error('bench/evaluator-server.mjs is started by bench/evaluator.mjs (needs an IPC channel)');
  process.exit(2);
}
// The parent died (watchdog, crash): do not linger.
process.on('disconnect', () => process.exit(3));

// Per-pass log in flat arrays: start (epoch ms), end (epoch ms), CPU µs, monitors, events.
const passLog = { start: [], end: [], cpuUs: [], monitors: [], events: [] };
const originalPass = Evaluator.prototype.runPass;
if (typeof originalPass !== 'function') throw new Error('Evaluator.prototype.runPass not found: the evaluator changed shape');
Evaluator.prototype.runPass = async function instrumentedPass() {
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  const monitors0 = this.stats.monitorsEvaluated;
  const events0 = this.stats.eventsEvaluated;
  try {
    return await originalPass.call(this);
  } finally {
    const cpu = process.cpuUsage(cpu0);
    passLog.start.push(start);
    passLog.end.push(Date.now());
    passLog.cpuUs.push(cpu.user + cpu.system);
    passLog.monitors.push(this.stats.monitorsEvaluated - monitors0);
    passLog.events.push(this.stats.eventsEvaluated - events0);
  }
};

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const started = performance.now();
const vigil = await Vigil.create(loadConfig());
const address = await vigil.start();
const startupMs = performance.now() - started;

function stats() {
  const ms = (ns) => ns / 1e6;
  return {
    evaluator: { ...vigil.evaluator.stats },
    deliveries: { ...vigil.deliveries.stats },
    passesLogged: passLog.start.length,
    loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), mean: ms(loopDelay.mean) },
    memory: process.memoryUsage(),
  };
}

/** `n` idle wake-ups back to back, each exactly what the timer would run. */
async function idlePasses(n) {
  const passes0 = vigil.evaluator.stats.passes;
  const monitors0 = vigil.evaluator.stats.monitorsEvaluated;
  const events0 = vigil.evaluator.stats.eventsEvaluated;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await vigil.evaluator.runOnce();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    n,
    wallMs,
    cpuUs: cpu.user + cpu.system,
    passes: vigil.evaluator.stats.passes - passes0,
    monitors: vigil.evaluator.stats.monitorsEvaluated - monitors0,
    events: vigil.evaluator.stats.eventsEvaluated - events0,
  };
}

let session;
function inspectorPost(method, params = {}) {
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
}
async function profileStart() {
  session = new Session();
  session.connect();
  await inspectorPost('Profiler.enable');
  await inspectorPost('Profiler.start');
}
async function profileStop(path) {
  const { profile } = await inspectorPost('Profiler.stop');
  session.disconnect();
  writeFileSync(path, JSON.stringify(profile));
}

process.on('message', (message) => {
  const reply = (body) => process.send({ id: message.id, ...body });
  void (async () => {
    try {
      if (message.type === 'stats') reply({ ok: true, stats: stats() });
      else if (message.type === 'reset-loop-delay') {
        loopDelay.reset();
        reply({ ok: true });
      } else if (message.type === 'pass-log') reply({ ok: true, passLog });
      else if (message.type === 'profile-start') {
        await profileStart();
        reply({ ok: true });
      } else if (message.type === 'profile-stop') {
        await profileStop(message.path);
        reply({ ok: true });
      } else if (message.type === 'idle-passes') reply({ ok: true, result: await idlePasses(message.n) });
      else reply({ ok: false, error: `unknown message ${message.type}` });
    } catch (error) {
      reply({ ok: false, error: error instanceof Error ? error.stack : String(error) });
    }
  })();
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 20_000).unref();
  try {
    await vigil.stop();
    process.exit(0);
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

process.send({ type: 'ready', port: address.port, startupMs, pid: process.pid });
