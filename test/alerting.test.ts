import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { Vigil } from '../src/server.js';
import { StoreKinds, ingest, runCli, spawnServer, startVigil, storeAvailable, tempDir, type Running } from './helpers.js';
import { eventually, sign, sleep, startHoldingReceiver, startReceiver, startSmtp, type Received } from './receivers.js';

const SECRET = 'a-webhook-secret-of-some-length';

/** End to end in real time: seconds-long windows, a tolerance of 1 s. */
for (const kind of StoreKinds)
  describe.skipIf(!storeAvailable(kind))(`alerting end to end (${kind})`, () => {
  let vigil: Running;
  let app: { id: string; key: string };
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let webhookId: string;
  let emailId: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    smtp = await startSmtp();
    vigil = await startVigil({ VIGIL_INGEST_TOLERANCE: '1', VIGIL_SMTP_URL: smtp.url, VIGIL_MAIL_FROM: 'vigil@example.com' }, { store: kind });
    app = await vigil.createApp('Acme');
    webhookId = (await vigil.api('POST', '/notifiers', { type: 'webhook', name: 'hook', config: { url: `${receiver.url}/hook`, secret: SECRET } })).body.id;
    emailId = (await vigil.api('POST', '/notifiers', { type: 'email', name: 'ops', config: { to: ['ops@example.com'] } })).body.id;
  });
  afterAll(async () => {
    await vigil.stop();
    await receiver.close();
    await smtp.close();
  });

  const hooksFor = (identifier: string) =>
    receiver.received.filter((r) => r.path === '/hook' && (JSON.parse(r.body) as any).monitor.identifier === identifier);

  it('a heartbeat monitor that goes silent: one incident.opened, signed; the next beat: one incident.resolved', async () => {
    const { id } = await vigil.createMonitor(app.id, { identifier: 'worker', type: 'heartbeat', max_duration: 2, notifier_ids: [webhookId, emailId] });
    const beat = () => ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=worker`);
    expect((await beat()).status).toBe(200);
    await sleep(1000);
    await beat();
    // Silence: deadline 2 s after the last beat, declared 1 s later.
    const opened = await eventually(() => {
      const hooks = hooksFor('worker');
      expect(hooks).toHaveLength(1);
      return hooks[0]!;
    });
    expect(opened.headers['vigil-event']).toBe('incident.opened');
    expect(opened.headers['content-type']).toMatch(/^application\/json/);
    expect(opened.headers['vigil-signature']).toBe(sign(opened.body, SECRET));
    expect(opened.headers['vigil-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    const body = JSON.parse(opened.body);
    expect(body).toMatchObject({
      event: 'incident.opened',
      incident: { reason: 'missed', resolved_at: null },
      monitor: { id, identifier: 'worker', type: 'heartbeat', status: 'missed', url: expect.stringContaining(`/monitors/${id}`) },
      app: { id: app.id, name: 'Acme', environment: 'production' },
      occurrence: { status: 'missed' },
    });
    await sleep(3000);
    expect(hooksFor('worker')).toHaveLength(1); // still silent: no second alert

    await beat();
    const resolved = await eventually(() => {
      const hooks = hooksFor('worker');
      expect(hooks).toHaveLength(2);
      return hooks[1]!;
    });
    expect(resolved.headers['vigil-event']).toBe('incident.resolved');
    expect(resolved.headers['vigil-signature']).toBe(sign(resolved.body, SECRET));
    expect(JSON.parse(resolved.body).incident).toMatchObject({ id: body.incident.id, resolved_at: expect.any(String) });

    // The email channel told the same story, once per change.
    const mails = await eventually(() => {
      const worker = smtp.messages.filter((m) => m.raw.includes('worker'));
      expect(worker).toHaveLength(2);
      return worker;
    });
    expect(mails[0]!.to).toEqual(['ops@example.com']);
    expect(mails[0]!.raw).toMatch(/^Subject: .*worker/m);
    expect(mails[0]!.raw).toContain('text/plain');
    expect(mails[0]!.raw).toContain('text/html');

    const incidents = await vigil.api('GET', `/incidents?monitor_id=${id}`);
    expect(incidents.body.data).toMatchObject([{ reason: 'missed', state: 'resolved' }]);
    // A receiver sees the request before Vigil has recorded the answer: wait for the record.
    const deliveries = await eventually(async () => {
      const res = await vigil.api('GET', `/incidents/${incidents.body.data[0].id}/deliveries`);
      expect(res.body.data.map((d: any) => [d.event, d.status])).toEqual(
        expect.arrayContaining([
          ['incident.opened', 'delivered'],
          ['incident.resolved', 'delivered'],
        ]),
      );
      return res;
    });
    expect(deliveries.body.data).toHaveLength(4);
    expect(deliveries.body.data[0].attempts[0]).toMatchObject({ ok: true });
  });

  it('a heartbeat beating many times a second: one window per second, then silence alerts once', async () => {
    const { id } = await vigil.createMonitor(app.id, { identifier: 'chatty', type: 'heartbeat', max_duration: 2, notifier_ids: [webhookId] });
    const beat = () => ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=chatty`);
    const started = Date.now();
    let beats = 0;
    while (Date.now() - started < 2500) {
      const answers = await Promise.all(Array.from({ length: 20 }, beat));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      beats += answers.length;
      await sleep(100);
    }
    const opened = await eventually(() => {
      const hooks = hooksFor('chatty');
      expect(hooks).toHaveLength(1);
      return JSON.parse(hooks[0]!.body);
    });
    expect(opened).toMatchObject({ event: 'incident.opened', incident: { reason: 'missed' }, monitor: { id, status: 'missed' } });
    const events = await vigil.api('GET', `/monitors/${id}/events?limit=200`);
    expect(events.body.data).toHaveLength(Math.min(beats, 200));
    // Beats are timed to the second: every second with beats is one window, whatever the rate.
    const windows = (await vigil.api('GET', `/monitors/${id}/occurrences?limit=100`)).body.data as { expected_at: string; status: string }[];
    const seconds = new Set(windows.map((w) => w.expected_at));
    expect(seconds.size).toBe(windows.length);
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expect(windows.length).toBeLessThanOrEqual(6);
    expect(windows.filter((w) => w.status === 'success').length).toBe(windows.length - 1);
    await sleep(3000);
    expect(hooksFor('chatty')).toHaveLength(1);
  });

  it('a cron monitor that skips a run: one incident.opened; the next run on time: one incident.resolved', async () => {
    // A tick every 3 s, each run may take 1 s.
    const { id } = await vigil.createMonitor(app.id, { identifier: 'every-3s', type: 'cron', schedule: '*/3 * * * * *', max_duration: 1, notifier_ids: [webhookId] });
    const finish = () => ingest(vigil.url, `/check_ins/cron?api_key=${app.key}&identifier=every-3s&kind=finish`);
    const waitForTick = async () => {
      const next = Math.ceil((Date.now() + 1) / 3000) * 3000;
      await sleep(next - Date.now() + 100);
    };
    await waitForTick();
    await finish();
    await waitForTick();
    await finish();
    // Skip the next run(s): a miss is declared 1 s after the window closes.
    const opened = await eventually(() => {
      const hooks = hooksFor('every-3s');
      expect(hooks.length).toBeGreaterThanOrEqual(1);
      return hooks[0]!;
    });
    expect(opened.headers['vigil-event']).toBe('incident.opened');
    expect(JSON.parse(opened.body)).toMatchObject({ incident: { reason: 'missed' }, occurrence: { status: 'missed', finished_at: null } });
    await waitForTick();
    await finish();
    const resolved = await eventually(() => {
      const hooks = hooksFor('every-3s');
      expect(hooks).toHaveLength(2);
      return hooks[1]!;
    });
    expect(resolved.headers['vigil-event']).toBe('incident.resolved');
    const occurrences = await vigil.api('GET', `/monitors/${id}/occurrences?limit=100`);
    const statuses = occurrences.body.data.map((o: any) => o.status);
    expect(statuses).toContain('success');
    expect(statuses).toContain('missed');
    // Exactly one incident, opened then resolved.
    expect((await vigil.api('GET', `/incidents?monitor_id=${id}`)).body.data).toMatchObject([{ state: 'resolved' }]);
  });

  it('kind=fail opens an incident at once with reason failed, with the exit code and output kept', async () => {
    const { id } = await vigil.createMonitor(app.id, { identifier: 'flaky-job', type: 'cron', schedule: '*/5 * * * * *', max_duration: 4, notifier_ids: [webhookId] });
    const digest = '00000000deadbeef';
    await ingest(vigil.url, `/check_ins/cron?api_key=${app.key}&identifier=flaky-job&kind=start&digest=${digest}`);
    const sent = Date.now();
    await ingest(vigil.url, `/check_ins/cron?api_key=${app.key}&identifier=flaky-job&kind=fail&digest=${digest}&exit_code=3`, 'disk full');
    const opened = await eventually(() => {
      const hooks = hooksFor('flaky-job');
      expect(hooks).toHaveLength(1);
      return hooks[0]!;
    });
    // At once: not after the 4 s window plus the tolerance.
    expect(opened.at - sent).toBeLessThan(3000);
    expect(JSON.parse(opened.body)).toMatchObject({ incident: { reason: 'failed' }, occurrence: { status: 'failed', digest } });
    expect((await vigil.api('GET', `/monitors/${id}/events`)).body.data[0]).toMatchObject({ kind: 'fail', exit_code: 3, output: 'disk full' });
  });

  it('a monitor in status new never alerts', async () => {
    const { id } = await vigil.createMonitor(app.id, { identifier: 'never-seen', type: 'heartbeat', max_duration: 1, notifier_ids: [webhookId] });
    const cron = await vigil.createMonitor(app.id, { identifier: 'never-run', type: 'cron', schedule: '* * * * * *', max_duration: 1, notifier_ids: [webhookId] });
    await sleep(3500);
    expect(hooksFor('never-seen')).toEqual([]);
    expect(hooksFor('never-run')).toEqual([]);
    expect((await vigil.api('GET', `/monitors/${id}`)).body.status).toBe('new');
    expect((await vigil.api('GET', `/monitors/${cron.id}`)).body.status).toBe('new');
  });

  it('judges the check-ins that follow the deletion of the monitor holding the newest ones', async () => {
    const doomed = await vigil.createMonitor(app.id, { identifier: 'doomed', type: 'heartbeat', max_duration: 60 });
    const survivor = await vigil.createMonitor(app.id, { identifier: 'survivor', type: 'heartbeat', max_duration: 60 });
    for (let i = 0; i < 5; i++) await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=doomed`);
    // Judged: the evaluator has read past these check-ins.
    await eventually(async () => expect((await vigil.api('GET', `/monitors/${doomed.id}`)).body.status).toBe('running'));
    expect((await vigil.api('DELETE', `/monitors/${doomed.id}`)).status).toBe(204);
    expect((await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=survivor`)).status).toBe(200);
    await eventually(async () => {
      expect((await vigil.api('GET', `/monitors/${survivor.id}`)).body.status).toBe('running');
      expect((await vigil.api('GET', `/monitors/${survivor.id}/occurrences`)).body.data).toHaveLength(1);
    });
  });

  it('sends a test notification on demand', async () => {
    const res = await vigil.api('POST', `/notifiers/${webhookId}/test`);
    expect(res.body).toMatchObject({ ok: true, status: 200 });
    const hook = receiver.received.find((r) => r.headers['vigil-event'] === 'test');
    expect(hook?.headers['vigil-signature']).toBe(sign(hook!.body, SECRET));
    expect((await vigil.api('GET', `/notifiers/${webhookId}`)).body.config.secret).toBe('****');
  });

  it('deleting a notifier takes it off the monitors that named it', async () => {
    const doomed = (await vigil.api('POST', '/notifiers', { type: 'webhook', name: 'doomed', config: { url: `${receiver.url}/doomed`, secret: SECRET } })).body.id as string;
    const { id } = await vigil.createMonitor(app.id, { identifier: 'two-channels', type: 'heartbeat', notifier_ids: [webhookId, doomed] });
    expect((await vigil.api('DELETE', `/notifiers/${doomed}`)).status).toBe(204);
    expect((await vigil.api('GET', `/monitors/${id}`)).body.notifier_ids).toEqual([webhookId]);
    // The monitor can be updated again with the notifier list it shows.
    expect((await vigil.api('PATCH', `/monitors/${id}`, { notifier_ids: [webhookId], description: 'still fine' })).status).toBe(200);
  });

  it('refuses a monitor that names a notifier that does not exist', async () => {
    const res = await vigil.api('POST', `/apps/${app.id}/monitors`, { identifier: 'x', type: 'heartbeat', notifier_ids: ['9999'] });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('notifier_ids: no notifier 9999');
  });
});

describe('alerting faults', () => {
  it('kill -9 with a notification pending: delivered after the restart, once, with the same delivery id', async () => {
    // The receiver holds the first delivery without answering; Vigil dies meanwhile.
    let hold = true;
    const held: Received[] = [];
    const receiver = await startHoldingReceiver(() => hold, held);
    const dir = tempDir();
    const env = { VIGIL_DATABASE_URL: `sqlite:${join(dir.path, 'vigil.db')}`, VIGIL_INGEST_TOLERANCE: '1' };
    let server = await spawnServer(env);
    try {
      const key = (await runCli(['app', 'create', '--name', 'Acme'], env)).stdout.trim().split('\n').pop()!;
      await runCli(['user', 'create', '--email', 'ops@example.com', '--password', 'password1'], env);
      const token = (await runCli(['token', 'create', '--email', 'ops@example.com'], env)).stdout.trim().split('\n').pop()!;
      const api = (url: string, method: string, path: string, body?: unknown) =>
        fetch(`${url}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        }).then((r) => r.json() as Promise<any>);
      const notifier = await api(server.url, 'POST', '/notifiers', { type: 'webhook', name: 'hook', config: { url: receiver.url, secret: SECRET } });
      await api(server.url, 'POST', '/apps/1/monitors', { identifier: 'beat', type: 'heartbeat', max_duration: 1, notifier_ids: [notifier.id] });
      await ingest(server.url, `/check_ins/heartbeats?api_key=${key}&identifier=beat`);
      await eventually(() => expect(held).toHaveLength(1));
      server.child.kill('SIGKILL');
      await server.exited;
      hold = false;
      server = await spawnServer(env);
      await eventually(() => expect(held).toHaveLength(2), 30_000);
      expect(held[1]!.headers['vigil-delivery']).toBe(held[0]!.headers['vigil-delivery']);
      expect(held[1]!.headers['vigil-event']).toBe('incident.opened');
      await sleep(2000);
      expect(held).toHaveLength(2);
      const incident = (await api(server.url, 'GET', '/incidents')).data[0];
      const deliveries = (await api(server.url, 'GET', `/incidents/${incident.id}/deliveries`)).data;
      expect(deliveries).toMatchObject([{ status: 'delivered', attempts: [{ ok: true, status_code: 200 }] }]);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
      await receiver.close();
      dir.remove();
    }
  }, 60_000);

  it('a receiver answering 500 twice then 200 gets the same delivery id each time', async () => {
    const receiver = await startReceiver((n) => (n <= 2 ? 500 : 200));
    const vigil = await startVigil({ VIGIL_INGEST_TOLERANCE: '1' }, { delivery: { backoffMs: 200 } });
    try {
      const app = await vigil.createApp();
      const notifier = (await vigil.api('POST', '/notifiers', { type: 'webhook', name: 'flaky', config: { url: receiver.url, secret: SECRET } })).body.id;
      await vigil.createMonitor(app.id, { identifier: 'beat', type: 'heartbeat', max_duration: 1, notifier_ids: [notifier] });
      await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=beat`);
      await eventually(() => expect(receiver.received).toHaveLength(3));
      const ids = receiver.received.map((r) => r.headers['vigil-delivery']);
      expect(new Set(ids).size).toBe(1);
      expect(receiver.received.map((r) => r.body)).toEqual(Array(3).fill(receiver.received[0]!.body));
      const incident = (await vigil.api('GET', '/incidents')).body.data[0];
      // The receiver answered before Vigil recorded the answer: wait for the record.
      await eventually(async () => {
        const deliveries = (await vigil.api('GET', `/incidents/${incident.id}/deliveries`)).body.data;
        expect(deliveries).toHaveLength(1);
        expect(deliveries[0]).toMatchObject({ id: ids[0], status: 'delivered' });
        expect(deliveries[0].attempts.map((a: any) => a.status_code)).toEqual([500, 500, 200]);
      });
      await sleep(1000);
      expect(receiver.received).toHaveLength(3);
    } finally {
      await vigil.stop();
      await receiver.close();
    }
  });

  it('Vigil stopped across a deadline marks that occurrence unknown and sends nothing for it', async () => {
    const receiver = await startReceiver();
    const dir = tempDir();
    const config = loadConfig({ VIGIL_DATABASE_URL: `sqlite:${join(dir.path, 'vigil.db')}`, VIGIL_PORT: '0', VIGIL_LOG_LEVEL: 'silent', VIGIL_INGEST_TOLERANCE: '1' });
    let vigil = await Vigil.create(config);
    try {
      let address = await vigil.start();
      const admin = await vigil.services.accounts.createUser({ email: 'a@example.com', password: 'password1', role: 'admin' });
      const app = await vigil.services.apps.create({ name: 'Acme' });
      const notifier = await vigil.services.notifiers.create({ type: 'webhook', name: 'hook', config: { url: receiver.url, secret: SECRET } });
      const monitor = await vigil.services.monitors.create(Number(app.id), { identifier: 'beat', type: 'heartbeat', max_duration: 5, notifier_ids: [notifier.id] });
      await ingest(`http://127.0.0.1:${address.port}`, `/check_ins/heartbeats?api_key=${app.push_api_key}&identifier=beat`);
      await sleep(300);
      await vigil.stop();
      await sleep(6500); // the 5 s window ends while Vigil is down
      vigil = await Vigil.create(config);
      address = await vigil.start();
      const { token } = await vigil.services.accounts.createToken(admin.id, 't');
      const get = async (path: string) =>
        (await (await fetch(`http://127.0.0.1:${address.port}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as any;
      const first = await eventually(async () => {
        const list = (await get(`/monitors/${monitor.id}/occurrences`)).data as any[];
        const original = list[list.length - 1]; // the window of the beat before the stop
        expect(original?.status).toBe('unknown');
        return original;
      });
      // The process is expected to beat within max_duration of Vigil coming back: it does.
      await ingest(`http://127.0.0.1:${address.port}`, `/check_ins/heartbeats?api_key=${app.push_api_key}&identifier=beat`);
      await sleep(1500);
      const statuses = ((await get(`/monitors/${monitor.id}/occurrences`)).data as any[]).map((o) => o.status);
      expect(statuses).toContain('unknown');
      expect(statuses).not.toContain('missed');
      expect(first.expected_at).toBeDefined();
      expect(receiver.received).toEqual([]);
      expect((await get('/incidents')).data).toEqual([]);
    } finally {
      await vigil.stop();
      await receiver.close();
      dir.remove();
    }
  });
});
