import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, runCli, spawnServer, tempDir, type Spawned } from './helpers.js';

describe('vigil CLI', () => {
  const dir = tempDir();
  const env = { VIGIL_DATABASE_URL: `sqlite:${join(dir.path, 'vigil.db')}` };
  afterAll(() => dir.remove());

  it('has --help for every command', async () => {
    const top = await runCli(['--help'], env);
    expect(top.code).toBe(0);
    for (const command of ['serve', 'migrate', 'user', 'token', 'app', 'monitor', 'exec', 'heartbeat']) expect(top.stdout).toContain(command);
    const sub = await runCli(['monitor', 'create', '--help'], env);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--schedule');
  });

  it('migrates an empty database', async () => {
    const res = await runCli(['migrate'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('0 pending');
  });

  it('creates a user and prints a token as the last line', async () => {
    expect((await runCli(['user', 'create', '--email', 'ops@example.com', '--password', 'password1', '--role', 'admin'], env)).code).toBe(0);
    const token = await runCli(['token', 'create', '--email', 'ops@example.com', '--name', 'deploy'], env);
    expect(token.code).toBe(0);
    expect(token.stdout.trim().split('\n').pop()).toMatch(/^vgl_[A-Za-z0-9_-]{32}$/);
  });

  it('creates an app and monitors, lists, updates and deletes them', async () => {
    const app = await runCli(['app', 'create', '--name', 'Acme', '--environment', 'staging'], env);
    expect(app.code, app.stderr).toBe(0);
    expect(app.stdout.trim().split('\n').pop()).toMatch(/^vpk_/);
    const created = await runCli(
      ['monitor', 'create', '--app', '1', '--identifier', 'backup', '--schedule', '0 3 * * *', '--timezone', 'Europe/Berlin', '--max-duration', '900', '--tag', 'db', 'nightly'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const listed = await runCli(['monitor', 'list', '--app', '1', '--json'], env);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { identifier: 'backup', type: 'cron', schedule: '0 3 * * *', timezone: 'Europe/Berlin', max_duration: 900, tags: ['db', 'nightly'] },
    ]);
    const updated = await runCli(['monitor', 'update', '1', '--max-duration', '60'], env);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('60s');
    expect((await runCli(['monitor', 'delete', '1'], env)).code).toBe(0);
    expect(JSON.parse((await runCli(['monitor', 'list', '--app', '1', '--json'], env)).stdout)).toEqual([]);
  });

  it.each([
    [['monitor', 'create', '--app', '1', '--identifier', 'x', '--schedule', '99 * * * *'], /schedule: .*\(invalid_schedule\)/],
    [['monitor', 'create', '--app', '1', '--identifier', 'x', '--schedule', '* * * * *', '--timezone', 'Atlantis/Capital'], /timezone: .*\(invalid_timezone\)/],
    [['monitor', 'create', '--app', '42', '--identifier', 'x', '--type', 'heartbeat'], /app 42 not found/],
    [['token', 'create', '--email', 'nobody@example.com'], /no user with email/],
    [['user', 'create', '--email', 'x@example.com', '--password', 'short'], /password: /],
    [['monitor', 'frobnicate'], /unknown command|error/i],
  ])('%j fails on stderr with a non-zero exit', async (args, message) => {
    const res = await runCli(args, env);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(message);
  });

  it('refuses a bad configuration value, naming the variable', async () => {
    const res = await runCli(['migrate'], { ...env, VIGIL_PORT: 'eighty' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('VIGIL_PORT');
  });
});

describe('vigil exec and heartbeat against a running server', () => {
  const dir = tempDir();
  const env = { VIGIL_DATABASE_URL: `sqlite:${join(dir.path, 'vigil.db')}` };
  let server: Spawned;
  let key: string;

  beforeAll(async () => {
    key = (await runCli(['app', 'create', '--name', 'Jobs'], env)).stdout.trim().split('\n').pop()!;
    await runCli(['monitor', 'create', '--app', '1', '--identifier', 'job', '--schedule', '* * * * *'], env);
    await runCli(['monitor', 'create', '--app', '1', '--identifier', 'beat', '--type', 'heartbeat'], env);
    await runCli(['user', 'create', '--email', 'ops@example.com', '--password', 'password1'], env);
    server = await spawnServer(env);
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    dir.remove();
  });

  const events = async (monitorId: number) => {
    const token = (await runCli(['token', 'create', '--email', 'ops@example.com'], env)).stdout.trim().split('\n').pop()!;
    const res = await fetch(`${server.url}/api/v1/monitors/${monitorId}/events`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as any).data as any[];
  };

  it('reports start and finish of a successful command, with one digest, and passes its exit code through', async () => {
    const res = await runCli(['exec', '--identifier', 'job', '--url', server.url, '--api-key', key, '--', 'sh', '-c', 'echo hello'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('hello');
    const [finish, start] = await events(1);
    expect([start.kind, finish.kind]).toEqual(['start', 'finish']);
    expect(start.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(finish.digest).toBe(start.digest);
  });

  it('reports a failing command as kind=fail with its exit code and output', async () => {
    const res = await runCli(['exec', '--identifier', 'job', '--url', server.url, '--api-key', key, '--', 'sh', '-c', 'echo disk full >&2; exit 3'], env);
    expect(res.code).toBe(3);
    const [fail] = await events(1);
    expect(fail).toMatchObject({ kind: 'fail', exit_code: 3, output: 'disk full\n' });
  });

  it('sends a heartbeat, reading the key from VIGIL_PUSH_API_KEY', async () => {
    const res = await runCli(['heartbeat', '--identifier', 'beat'], { ...env, VIGIL_URL: server.url, VIGIL_PUSH_API_KEY: key });
    expect(res.code, res.stderr).toBe(0);
    expect(await events(2)).toHaveLength(1);
  });

  it('a monitor created by the CLI while the server runs is accepted within seconds', async () => {
    await runCli(['monitor', 'create', '--app', '1', '--identifier', 'late-comer', '--type', 'heartbeat'], env);
    let accepted = 0;
    for (let i = 0; i < 30 && accepted === 0; i++) {
      accepted = (await ingest(server.url, `/check_ins/heartbeats?api_key=${key}&identifier=late-comer`)).body.accepted;
      if (accepted === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(accepted).toBe(1);
  });
});
