// Summary of a V8 .cpuprofile for bench/evaluator.mjs (BENCH_CPU_PROF=1): self time by
// area (Vigil file, npm package, node internals, GC…) and by function, and inclusive
// ("total") time of Vigil's own functions (<root>/dist/), so the cost of evaluate/apply/enqueue and of
// the query builder shows up even when the self time sits in library code.
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function location(url, root) {
  if (!url) return '';
  if (!url.startsWith('file://')) return url;
  try {
    return relative(root, fileURLToPath(url));
  } catch {
    return url;
  }
}

function areaOf(frame, root) {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : `native: ${frame.functionName || '(anonymous)'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (pkg) return `npm: ${pkg[1]}`;
  if (frame.url.startsWith('node:')) return `node: ${frame.url.replace(/^node:(internal\/)?/, '').split('/').slice(0, 2).join('/')}`;
  return location(frame.url, root);
}

export function summarizeCpuProfile(profile, root, limit = 15) {
  const ownDist = pathToFileURL(join(root, 'dist')).href + '/';
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const { samples = [], timeDeltas = [] } = profile;
  const self = new Map();
  for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, timeDeltas[i + 1] ?? 0));

  const key = (f) => `${f.functionName || '(anonymous)'} ${location(f.url, root)}:${f.lineNumber + 1}`;
  const selfByFunction = new Map();
  const areas = new Map();
  const inclusive = new Map();
  let busy = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busy += micros;
    const k = key(node.callFrame);
    selfByFunction.set(k, (selfByFunction.get(k) ?? 0) + micros);
    const a = areaOf(node.callFrame, root);
    areas.set(a, (areas.get(a) ?? 0) + micros);
    // Inclusive time of every distinct dist/ function on the stack.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame?.url?.startsWith(ownDist)) continue;
      const fk = key(frame);
      if (seen.has(fk)) continue;
      seen.add(fk);
      inclusive.set(fk, (inclusive.get(fk) ?? 0) + micros);
    }
  }
  const top = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => ({ name, ms: micros / 1000, pct: busy ? (micros / busy) * 100 : 0 }));
  return { busySeconds: busy / 1e6, areas: top(areas), self: top(selfByFunction), inclusive: top(inclusive) };
}
