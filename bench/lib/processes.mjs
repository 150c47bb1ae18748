// Child processes for the benchmark: started with the node binary itself (so the PID we
// hold is the server, not a wrapper), tracked, and killed by PID — never by name.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const children = new Set();

/** Runs `node args…` to completion; resolves with stdout, rejects with stderr on failure. */
export function runNode(args, { env, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts a long-running node process and resolves once a stdout line satisfies `ready`
 * (a parsed JSON object), with `{ child, line, logPath }`. Every output line also goes to
 * `logPath` so errors logged by the server can be inspected afterwards.
 */
export function startNode(name, args, { env, ready, logPath, timeoutMs = 30_000 }) {
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stderr.on('data', (chunk) => log.write(chunk));
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`${name} did not become ready within ${timeoutMs} ms (log: ${logPath})`)), timeoutMs);
    function fail(error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      kill(child, 'SIGKILL');
      reject(error);
    }
    child.on('error', fail);
    child.on('exit', (code, signal) => fail(new Error(`${name} exited early (code ${code}, signal ${signal}); see ${logPath}`)));
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      if (settled) return;
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (ready(parsed)) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, line: parsed, logPath });
      }
    });
  });
}

/** Sends `signal` to the child by PID if it is still running. */
export function kill(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves with `{ code, signal, forced }`. */
export function stop(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode, forced: false });
  }
  return new Promise((resolve) => {
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      kill(child, 'SIGKILL');
    }, graceMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, forced });
    });
    kill(child, 'SIGTERM');
  });
}

/** Last-resort cleanup (watchdog, Ctrl-C, crash): SIGKILL every child still running. */
export function killAll() {
  for (const child of children) kill(child, 'SIGKILL');
}

let clockTicks;
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      clockTicks = NaN;
    }
    // 100 is the Linux default.
    if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100;
  }
  return clockTicks;
}

/** CPU seconds (user + system) used so far by a process, from /proc; NaN off Linux. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the `(comm)` part, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** `{ rssMiB, peakMiB }` from /proc/<pid>/status (VmRSS, VmHWM); NaN off Linux. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return { rssMiB: NaN, peakMiB: NaN };
  }
}
