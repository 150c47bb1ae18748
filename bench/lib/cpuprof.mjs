// Summarizes a V8 .cpuprofile (from `node --cpu-prof`) by self time: the hottest
// functions, and the same time grouped by area (Vigil file, npm package, Node internals,
// native code, GC), and the inclusive time of Vigil's own functions. Percentages are of
// busy time (everything but `(idle)`).
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function where(url, line, root) {
  if (!url) return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = relative(root, fileURLToPath(url));
    } catch {
      // keep the URL
    }
  }
  return line >= 0 ? `${path}:${line + 1}` : path;
}

function area(callFrame, root) {
  const { url, functionName } = callFrame;
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle)
    return `native: ${functionName || '(anonymous)'}`;
  }
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModules) return `npm: ${nodeModules[1]}`;
  if (url.startsWith('node:')) {
    const parts = url.replace(/^node:(internal\/)?/, '').split('/');
    return `node: ${parts.slice(0, Math.min(2, parts.length)).join('/').replace(/\.js$/, '')}`;
  }
  return where(url, -1, root);
}

export function summarizeProfile(profile, root, limit = 20) {
  const ownDist = pathToFileURL(join(root, 'dist')).href + '/';
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Inclusive time of Vigil's own functions (dist/): what evaluate/apply cost with the
  // library code they call.
  const inclusive = new Map();
  const selfMicros = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to it.
    const delta = timeDeltas[i + 1] ?? 0;
    selfMicros.set(samples[i], (selfMicros.get(samples[i]) ?? 0) + Math.max(0, delta));
  }
  const functions = new Map();
  const areas = new Map();
  let total = 0;
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    if (!node) continue;
    total += micros;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') continue;
    busy += micros;
    const key = `${cf.functionName}|${cf.url}|${cf.lineNumber}`;
    const f = functions.get(key) ?? { name: cf.functionName || '(anonymous)', where: where(cf.url, cf.lineNumber, root), micros: 0 };
    f.micros += micros;
    functions.set(key, f);
    const a = area(cf, root);
    areas.set(a, (areas.get(a) ?? 0) + micros);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame?.url?.startsWith(ownDist)) continue;
      const fk = `${frame.functionName}|${frame.url}|${frame.lineNumber}`;
      if (seen.has(fk)) continue;
      seen.add(fk);
      const f = inclusive.get(fk) ?? { name: frame.functionName || '(anonymous)', where: where(frame.url, frame.lineNumber, root), micros: 0 };
      f.micros += micros;
      inclusive.set(fk, f);
    }
  }
  const pct = (m) => (busy > 0 ? (m / busy) * 100 : 0);
  const ranked = (map) =>
    [...map.values()]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, limit)
      .map((f) => ({ name: f.name, where: f.where, ms: f.micros / 1000, pct: pct(f.micros) }));
  return {
    totalSeconds: total / 1e6,
    busySeconds: busy / 1e6,
    top: ranked(functions),
    inclusive: ranked(inclusive),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => ({ area: name, ms: micros / 1000, pct: pct(micros) })),
  };
}
