// The load generator: autocannon's programmatic API in this process, with identical
// settings for the bare baseline and for Vigil. Latency percentiles are computed from
// every 2xx response time at microsecond resolution (autocannon's own histogram rounds
// to whole milliseconds, which hides everything interesting below ~2 ms).
import autocannon from 'autocannon';
import { cpuSeconds } from './processes.mjs';
import { percentile } from './stats.mjs';

function once(options) {
  return new Promise((resolve, reject) => {
    const times = [];
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve({ result, times })));
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
    });
  });
}

function summarize({ result, times }, eventsPerRequest, wallSeconds) {
  const sorted = Float64Array.from(times).sort();
  const seconds = result.duration || wallSeconds;
  const ok = result['2xx'];
  const responses = ok + result.non2xx;
  return {
    seconds,
    responses,
    ok,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    resets: result.resets ?? 0,
    reqPerSec: responses / seconds,
    eventsPerSec: (ok * eventsPerRequest) / seconds,
    acknowledgedEvents: ok * eventsPerRequest,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
      mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN,
    },
  };
}

/**
 * A warm-up run (discarded, but its acknowledged events are returned so the database
 * check can count them), then the measured run. Also samples the server's CPU use
 * (from /proc) and this process's, to show which side was the bottleneck.
 */
export async function measure({ port, requests, connections, duration, warmup, expectBody, eventsPerRequest, serverPid }) {
  const base = {
    url: `http://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    timeout: 10,
    requests,
    // (expectBody cannot be combined with `requests` in autocannon; verifyBody can.)
    verifyBody: (body) => body === expectBody,
  };
  let warmupAcknowledged = 0;
  let warmupProblems = 0;
  if (warmup > 0) {
    const warm = await once({ ...base, duration: warmup });
    warmupAcknowledged = warm.result['2xx'] * eventsPerRequest;
    warmupProblems = warm.result.non2xx + warm.result.errors + warm.result.mismatches;
  }
  const serverCpu0 = cpuSeconds(serverPid);
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await once({ ...base, duration });
  const wallSeconds = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(clientCpu0);
  const summary = summarize(run, eventsPerRequest, wallSeconds);
  return {
    ...summary,
    warmupAcknowledged,
    warmupProblems,
    serverCpuPct: ((cpuSeconds(serverPid) - serverCpu0) / wallSeconds) * 100,
    clientCpuPct: ((clientCpu.user + clientCpu.system) / 1e6 / wallSeconds) * 100,
  };
}
