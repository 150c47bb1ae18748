import { Worker, MessageChannel } from 'node:worker_threads';
const w = new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => { const v = typeof m === 'string' ? JSON.parse(m) : m; parentPort.postMessage(v.length); });`, { eval: true });
function events(n) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({ monitor_id: (i % 200) + 1, check_in_type: i % 2 ? 'cron' : 'heartbeat', kind: i % 2 ? 'finish' : null, digest: i % 2 ? (i * 2654435761).toString(16).padStart(16, '0') : null, timestamp: Math.floor(now / 1000), client_timestamp: null, received_at: now, hostname: 'bench', exit_code: undefined, output: undefined }));
}
function flat(evs) {
  const out = new Array(evs.length * 10);
  let o = 0;
  for (const e of evs) { out[o++] = e.monitor_id; out[o++] = e.check_in_type; out[o++] = e.kind ?? null; out[o++] = e.digest ?? null; out[o++] = e.timestamp; out[o++] = e.received_at; out[o++] = e.hostname ?? null; out[o++] = e.exit_code ?? null; out[o++] = e.output ?? null; out[o++] = e.client_timestamp ?? null; }
  return out;
}
const ways = {
  objects: (evs) => w.postMessage(evs),
  flatClone: (evs) => w.postMessage(flat(evs)),
  flatJson: (evs) => w.postMessage(JSON.stringify(flat(evs))),
  objJson: (evs) => w.postMessage(JSON.stringify(evs)),
};
for (const n of [1, 10, 100, 1000, 10000]) {
  const evs = events(n);
  const line = [];
  for (const [name, fn] of Object.entries(ways)) {
    const iters = Math.max(20, Math.floor(200000 / n));
    for (let i = 0; i < 10; i++) fn(evs);
    const t = performance.now();
    for (let i = 0; i < iters; i++) fn(evs);
    const dt = performance.now() - t;
    line.push(`${name} ${(dt * 1000 / iters).toFixed(1)}us (${(dt * 1000 / iters / n).toFixed(3)}/ev)`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`n=${n}: ${line.join('  ')}`);
}
// round trip latency
w.removeAllListeners('message');
let t0; const rtts = [];
await new Promise((resolve) => { let k = 0; w.on('message', () => { rtts.push(performance.now() - t0); if (++k < 2000) { t0 = performance.now(); w.postMessage('[1]'); } else resolve(); }); t0 = performance.now(); w.postMessage('[1]'); });
rtts.sort((a, b) => a - b);
console.log('rtt p50', (rtts[1000] * 1000).toFixed(0), 'us p90', (rtts[1800] * 1000).toFixed(0), 'us');
await w.terminate();
