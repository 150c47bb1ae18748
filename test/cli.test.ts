import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, runCli, spawnServer, tempDir, type Spawned } from './helpers.js';

/** A port on 127.0.0.1 that nothing listens on (it did a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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

describe('a bad configuration value stops start-up with one line naming the variable', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const fresh = (name: string) => `sqlite:${join(dir.path, name, 'vigil.db')}`;
  const notSqlite = join(dir.path, 'notes.db');
  writeFileSync(notSqlite, 'this is a text file, not a SQLite database\n'.repeat(20));

  it.each([
    ['serve', { VIGIL_DATABASE_URL: fresh('email'), VIGIL_ADMIN_EMAIL: 'notanemail', VIGIL_ADMIN_PASSWORD: 'password1' }, 'VIGIL_ADMIN_EMAIL', /not an email address/],
    ['serve', { VIGIL_DATABASE_URL: fresh('password'), VIGIL_ADMIN_EMAIL: 'admin@example.com', VIGIL_ADMIN_PASSWORD: 'short' }, 'VIGIL_ADMIN_PASSWORD', /8 to 1024 characters/],
    ['serve', { VIGIL_DATABASE_URL: 'postgres://x:hunter2@[bad/z' }, 'VIGIL_DATABASE_URL', /not a valid URL/],
    ['migrate', { VIGIL_DATABASE_URL: 'postgres://x:hunter2@[bad/z' }, 'VIGIL_DATABASE_URL', /not a valid URL/],
    ['serve', { VIGIL_DATABASE_URL: 'sqlite:/proc/x.db' }, 'VIGIL_DATABASE_URL', /cannot open sqlite:\/proc\/x\.db: /],
    ['migrate', { VIGIL_DATABASE_URL: 'sqlite:/proc/x.db' }, 'VIGIL_DATABASE_URL', /cannot open sqlite:\/proc\/x\.db: /],
    // Node's recursive mkdir never returns for a missing directory under /proc.
    ['serve', { VIGIL_DATABASE_URL: 'sqlite:/proc/no-such-dir/x.db' }, 'VIGIL_DATABASE_URL', /cannot open .*no-such-dir/],
    ['serve', { VIGIL_DATABASE_URL: `sqlite:${notSqlite}` }, 'VIGIL_DATABASE_URL', /not a database/],
    ['migrate', { VIGIL_DATABASE_URL: `sqlite:${notSqlite}` }, 'VIGIL_DATABASE_URL', /not a database/],
    ['serve', { VIGIL_DATABASE_URL: fresh('host'), VIGIL_HOST: '999.1.1.1' }, 'VIGIL_HOST', /999\.1\.1\.1/],
    ['serve', { VIGIL_DATABASE_URL: fresh('listen'), VIGIL_HOST: 'no-such-host.invalid' }, 'VIGIL_HOST', /cannot listen on no-such-host\.invalid/],
  ] as const)('vigil %s with %j', async (command, vars, variable, message) => {
    const res = await runCli([command], { VIGIL_PORT: '0', ...vars });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`^vigil: ${variable}: `));
    expect(res.stderr).toMatch(message);
    expect(res.stderr.trim().split('\n'), 'one line, no stack trace').toHaveLength(1);
    expect(res.stderr).not.toContain('hunter2');
  });

  it('creates the first admin from good values', async () => {
    // The checks above must not refuse what the accounts service accepts.
    const res = await runCli(['migrate'], { VIGIL_DATABASE_URL: fresh('good'), VIGIL_ADMIN_EMAIL: 'Admin@Example.com', VIGIL_ADMIN_PASSWORD: 'password1', VIGIL_HOST: 'localhost' });
    expect(res.code, res.stderr).toBe(0);
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

  it('heartbeat: a recorded heartbeat exits 0 and says nothing', async () => {
    const before = (await events(2)).length;
    const res = await runCli(['heartbeat', '--identifier', 'beat', '--url', server.url, '--api-key', key], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(await events(2)).toHaveLength(before + 1);
  });

  it('heartbeat: a wrong push key exits 1 with one line on stderr', async () => {
    const res = await runCli(['heartbeat', '--identifier', 'beat', '--url', server.url, '--api-key', 'vpk_wrong'], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^vigil: heartbeat not recorded: refused by .*: 401 /);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('heartbeat: an identifier with no monitor exits 1 with one line on stderr', async () => {
    const res = await runCli(['heartbeat', '--identifier', 'no-such-monitor', '--url', server.url, '--api-key', key], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^vigil: heartbeat not recorded: rejected by .*no-such-monitor.*\(unknown_identifier\)/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('heartbeat: an unreachable server exits 1 with one line on stderr', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const res = await runCli(['heartbeat', '--identifier', 'beat', '--url', url, '--api-key', key], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`^vigil: heartbeat not recorded: could not reach ${url}: .*ECONNREFUSED`));
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exec: an unreachable server only warns; the job runs and its exit code is passed through', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const res = await runCli(['exec', '--identifier', 'job', '--url', url, '--api-key', key, '--', 'sh', '-c', 'echo ran; exit 5'], env);
    expect(res.code).toBe(5);
    expect(res.stdout).toContain('ran');
    expect(res.stderr).toMatch(/vigil: warning: check-in not recorded: could not reach/);
  });

  it('exec: a rejected check-in only warns, and a job killed by a signal exits 128 + its number', async () => {
    const res = await runCli(['exec', '--identifier', 'no-such-monitor', '--url', server.url, '--api-key', key, '--', 'sh', '-c', 'kill -TERM $$'], env);
    expect(res.code).toBe(128 + 15);
    expect(res.stderr).toMatch(/vigil: warning: check-in not recorded: rejected by .*\(unknown_identifier\)/);
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
