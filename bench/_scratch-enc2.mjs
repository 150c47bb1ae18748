import { MessageChannel } from 'node:worker_threads';
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
function flatPush(evs) {
  const out = [];
  for (const e of evs) out.push(e.monitor_id, e.check_in_type, e.kind ?? null, e.digest ?? null, e.timestamp, e.received_at, e.hostname ?? null, e.exit_code ?? null, e.output ?? null, e.client_timestamp ?? null);
  return out;
}
const { port1, port2 } = new MessageChannel();
port2.on('message', () => {});
port2.unref(); port1.unref();
const ways = {
  flat: (evs) => flat(evs),
  flatPush: (evs) => flatPush(evs),
  jsonFlat: (evs) => JSON.stringify(flat(evs)),
  jsonFlatPush: (evs) => JSON.stringify(flatPush(evs)),
  postObjects: (evs) => port1.postMessage(evs),
  postFlat: (evs) => port1.postMessage(flat(evs)),
  postJsonFlat: (evs) => port1.postMessage(JSON.stringify(flat(evs))),
};
for (const n of [10, 100, 1000, 10000]) {
  const evs = events(n);
  const line = [];
  for (const [name, fn] of Object.entries(ways)) {
    const iters = Math.max(50, Math.floor(300000 / n));
    for (let i = 0; i < iters; i++) fn(evs);
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t = performance.now();
      for (let i = 0; i < iters; i++) fn(evs);
      best = Math.min(best, (performance.now() - t) * 1000 / iters / n);
      await new Promise((r) => setImmediate(r));
    }
    line.push(`${name} ${best.toFixed(3)}`);
  }
  console.log(`n=${n} us/ev: ${line.join('  ')}`);
}

// typed columns + interned strings
function typed(evs) {
  const n = evs.length;
  const nums = new Float64Array(n * 5);
  const strs = new Int32Array(n * 5);
  const table = [];
  const index = new Map();
  const intern = (s) => {
    if (s === null || s === undefined) return -1;
    let i = index.get(s);
    if (i === undefined) { i = table.length; table.push(s); index.set(s, i); }
    return i;
  };
  let o = 0;
  for (const e of evs) {
    nums[o] = e.monitor_id; nums[o + 1] = e.timestamp; nums[o + 2] = e.received_at; nums[o + 3] = e.exit_code ?? NaN; nums[o + 4] = e.client_timestamp ?? NaN;
    strs[o] = intern(e.check_in_type); strs[o + 1] = intern(e.kind); strs[o + 2] = intern(e.digest); strs[o + 3] = intern(e.hostname); strs[o + 4] = intern(e.output);
    o += 5;
  }
  return { nums, strs, table };
}
const ways2 = {
  typed: (evs) => typed(evs),
  postTyped: (evs) => { const t = typed(evs); port1.postMessage(t, [t.nums.buffer, t.strs.buffer]); },
  postTypedJsonTable: (evs) => { const t = typed(evs); port1.postMessage({ nums: t.nums, strs: t.strs, table: JSON.stringify(t.table) }, [t.nums.buffer, t.strs.buffer]); },
  postObjects: (evs) => port1.postMessage(evs),
};
for (const n of [10, 100, 1000, 10000]) {
  const evs = events(n);
  const line = [];
  for (const [name, fn] of Object.entries(ways2)) {
    const iters = Math.max(50, Math.floor(300000 / n));
    for (let i = 0; i < iters; i++) fn(evs);
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t = performance.now();
      for (let i = 0; i < iters; i++) fn(evs);
      best = Math.min(best, (performance.now() - t) * 1000 / iters / n);
      await new Promise((r) => setImmediate(r));
    }
    line.push(`${name} ${best.toFixed(3)}`);
  }
  console.log(`n=${n} us/ev: ${line.join('  ')}`);
}
