import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ingest, runCli, spawnServer, tempDir, type Spawned } from './helpers.js';

const BATCHES = 40;
const SINGLES = 200;

/** Creates an app with one heartbeat and one cron monitor through the CLI. */
async function setup(env: Record<string, string>): Promise<string> {
  const created = await runCli(['app', 'create', '--name', 'Durable'], env);
  expect(created.code, created.stderr).toBe(0);
  const key = created.stdout.trim().split('\n').pop()!;
  for (const args of [
    ['--identifier', 'beat', '--type', 'heartbeat'],
    ['--identifier', 'job', '--type', 'cron', '--schedule', '* * * * *'],
  ]) {
    const monitor = await runCli(['monitor', 'create', '--app', '1', ...args], env);
    expect(monitor.code, monitor.stderr).toBe(0);
  }
  return key;
}

async function countEvents(env: Record<string, string>): Promise<number> {
  const db = new Database(env.VIGIL_DATABASE_URL!.slice('sqlite:'.length), { readonly: true });
  try {
    return (db.prepare('select count(*) as n from check_in_events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('durability', () => {
  const dirs: { remove: () => void }[] = [];
  const servers: Spawned[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) d.remove();
  });

  it('every check-in acknowledged with 200 survives kill -9 straight after the responses', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = { VIGIL_DATABASE_URL: `sqlite:${join(dir.path, 'vigil.db')}` };
    const key = await setup(env);
    const server = await spawnServer(env);
    servers.push(server);

    const batch = Array.from({ length: 50 }, (_, i) => `{"identifier":"job","kind":"finish","digest":"${String(i).padStart(16, '0')}","check_in_type":"cron"}`).join('\n');
    const requests = [
      ...Array.from({ length: SINGLES }, () => ingest(server.url, `/check_ins/heartbeats?api_key=${key}&identifier=beat`)),
      ...Array.from({ length: BATCHES }, () => ingest(server.url, `/check_ins/json?api_key=${key}`, batch)),
    ];
    const results = await Promise.allSettled(requests);
    // The instant the last answer is in, the process dies without any chance to flush.
    server.child.kill('SIGKILL');
    await server.exited;
    let acknowledged = 0;
    for (const r of results) if (r.status === 'fulfilled' && r.value.status === 200) acknowledged += r.value.body.accepted as number;
    expect(acknowledged).toBe(SINGLES + BATCHES * 50);
    expect(await countEvents(env)).toBeGreaterThanOrEqual(acknowledged);

    // And after a restart, through the API's own reading path.
    const again = await spawnServer(env);
    servers.push(again);
    const token = (await runCli(['user', 'create', '--email', 'ops@example.com', '--password', 'password1'], env), await runCli(['token', 'create', '--email', 'ops@example.com'], env));
    const bearer = token.stdout.trim().split('\n').pop()!;
    const monitors = await (await fetch(`${again.url}/api/v1/apps/1/monitors`, { headers: { authorization: `Bearer ${bearer}` } })).json() as any;
    expect(monitors.data.map((m: any) => m.last_event_at)).not.toContain(null);
    expect((await ingest(again.url, `/check_ins/heartbeats?api_key=${key}&identifier=beat`)).status).toBe(200);
  });

  it('SIGTERM finishes in-flight check-ins and exits 0', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = { VIGIL_DATABASE_URL: `sqlite:${join(dir.path, 'vigil.db')}` };
    const key = await setup(env);
    const server = await spawnServer(env);
    servers.push(server);
    const inFlight = Array.from({ length: 100 }, () => ingest(server.url, `/check_ins/heartbeats?api_key=${key}&identifier=beat`));
    await new Promise((resolve) => setTimeout(resolve, 5));
    server.child.kill('SIGTERM');
    const results = await Promise.allSettled(inFlight);
    expect(await server.exited).toBe(0);
    const acknowledged = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length;
    expect(acknowledged).toBeGreaterThan(0);
    expect(await countEvents(env)).toBeGreaterThanOrEqual(acknowledged);
  });
});
