import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreKinds, ingest, startVigil, storeAvailable, type Running } from './helpers.js';

for (const kind of StoreKinds)
  describe.skipIf(!storeAvailable(kind))(`REST API (${kind})`, () => {
  let vigil: Running;

  beforeAll(async () => {
    vigil = await startVigil({}, { store: kind });
  });
  afterAll(() => vigil.stop());

  describe('authentication', () => {
    it('refuses requests without a valid bearer token', async () => {
      const none = await fetch(`${vigil.url}/api/v1/apps`);
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer') } });
      const wrong = await fetch(`${vigil.url}/api/v1/apps`, { headers: { authorization: 'Bearer vgl_nope' } });
      expect(wrong.status).toBe(401);
    });

    it('serves the OpenAPI document without a token', async () => {
      const res = await fetch(`${vigil.url}/api/v1/openapi.json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as any;
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/api/v1/apps', '/api/v1/apps/{app_id}/monitors', '/api/v1/monitors/{id}/events', '/api/v1/schedule/preview']),
      );
    });

    it('creates tokens for the caller and users for admins', async () => {
      const me = await vigil.api('GET', '/me');
      expect(me.body.role).toBe('admin');
      const token = await vigil.api('POST', '/tokens', { name: 'ci' });
      expect(token.status).toBe(201);
      expect(token.body.token).toMatch(/^vgl_/);
      const user = await vigil.api('POST', '/users', { email: 'dev@example.com', password: 'longenough', role: 'member' });
      expect(user.status).toBe(201);
      const duplicate = await vigil.api('POST', '/users', { email: 'DEV@example.com', password: 'longenough' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error.code).toBe('conflict');
    });
  });

  describe('apps', () => {
    it('creates an app whose push key is shown once and stored hashed', async () => {
      const created = await vigil.api('POST', '/apps', { name: 'Billing', environment: 'staging' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'Billing', environment: 'staging', push_api_key: expect.stringMatching(/^vpk_/) });
      const fetched = await vigil.api('GET', `/apps/${created.body.id}`);
      expect(fetched.body.push_api_key).toBeUndefined();
      const row = await vigil.vigil.store.db.selectFrom('apps').select('push_key_hash').where('id', '=', Number(created.body.id)).executeTakeFirstOrThrow();
      expect(row.push_key_hash).not.toContain(created.body.push_api_key);
      expect(row.push_key_hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('defaults the environment to production and refuses duplicates', async () => {
      const created = await vigil.api('POST', '/apps', { name: 'Solo' });
      expect(created.body.environment).toBe('production');
      const again = await vigil.api('POST', '/apps', { name: 'Solo', environment: 'production' });
      expect(again.status).toBe(409);
    });

    it('updates, lists and deletes apps', async () => {
      const { id } = await vigil.createApp('Temp');
      expect((await vigil.api('PATCH', `/apps/${id}`, { name: 'Renamed' })).body.name).toBe('Renamed');
      expect((await vigil.api('GET', '/apps')).body.data.map((a: any) => a.name)).toContain('Renamed');
      expect((await vigil.api('DELETE', `/apps/${id}`)).status).toBe(204);
      expect((await vigil.api('GET', `/apps/${id}`)).status).toBe(404);
    });

    it('refuses unknown fields and wrong types, naming the field', async () => {
      const extra = await vigil.api('POST', '/apps', { name: 'X', colour: 'red' });
      expect(extra.status).toBe(400);
      expect(extra.body.error).toEqual({ code: 'invalid_field', message: 'colour: unknown field' });
      const wrong = await vigil.api('POST', '/apps', { name: 7 });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.message).toMatch(/^name: /);
      const missing = await vigil.api('POST', '/apps', {});
      expect(missing.body.error).toMatchObject({ code: 'missing_field', message: expect.stringMatching(/^name: /) });
      const broken = await fetch(`${vigil.url}/api/v1/apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${vigil.token}`, 'content-type': 'application/json' },
        body: '{"name":',
      });
      expect(broken.status).toBe(400);
      expect(((await broken.json()) as any).error.code).toBe('invalid_json');
      const blank = await vigil.api('POST', '/apps', { name: '   ' });
      expect(blank.body.error).toEqual({ code: 'invalid_field', message: 'name: must not be blank' });
      const { id } = (await vigil.api('POST', '/apps', { name: 'Blankable' })).body;
      expect((await vigil.api('PATCH', `/apps/${id}`, { environment: ' ' })).body.error).toEqual({ code: 'invalid_field', message: 'environment: must not be blank' });
    });

    it('answers a malformed path or an id out of range in the error shape (400, 404), never 500', async () => {
      const badUrl = await vigil.api('GET', '/apps/%ZZ');
      expect(badUrl.status).toBe(400);
      expect(badUrl.body.error.code).toBe('bad_request');
      for (const path of ['/apps/99999999999', '/monitors/2147483648', '/monitors/2147483648/events', '/notifiers/99999999999']) {
        const res = await vigil.api('GET', path);
        expect([path, res.status, res.body.error.code]).toEqual([path, 404, 'not_found']);
      }
    });
  });

  describe('monitors', () => {
    let appId: string;
    beforeAll(async () => {
      appId = (await vigil.createApp('Monitors')).id;
    });

    it('creates a cron monitor with defaults and a DST-aware next_expected_at', async () => {
      const res = await vigil.api('POST', `/apps/${appId}/monitors`, {
        identifier: 'nightly-backup',
        type: 'cron',
        schedule: '30 2 * * *',
        timezone: 'Europe/Amsterdam',
        max_duration: 600,
        tags: ['db'],
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        identifier: 'nightly-backup',
        type: 'cron',
        schedule: '30 2 * * *',
        timezone: 'Europe/Amsterdam',
        max_duration: 600,
        failure_threshold: 1,
        recovery_threshold: 1,
        paused: false,
        status: 'new',
        last_event_at: null,
      });
      const next = new Date(res.body.next_expected_at);
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', minute: '2-digit' }).format(next);
      expect(['02:30', '03:00']).toContain(local);
    });

    it.each([
      ['an invalid crontab', { identifier: 'a', type: 'cron', schedule: '61 * * * *' }, 'invalid_schedule', 'schedule'],
      ['a crontab with 3 fields', { identifier: 'a', type: 'cron', schedule: '* * *' }, 'invalid_schedule', 'schedule'],
      ['a never-firing crontab', { identifier: 'a', type: 'cron', schedule: '0 0 30 2 *' }, 'invalid_schedule', 'schedule'],
      ['an unknown timezone', { identifier: 'a', type: 'cron', schedule: '* * * * *', timezone: 'Mars/Olympus' }, 'invalid_timezone', 'timezone'],
      ['a cron monitor without schedule', { identifier: 'a', type: 'cron' }, 'missing_field', 'schedule'],
      ['a heartbeat with a schedule', { identifier: 'a', type: 'heartbeat', schedule: '* * * * *' }, 'invalid_field', 'schedule'],
      ['a zero max_duration', { identifier: 'a', type: 'heartbeat', max_duration: 0 }, 'invalid_field', 'max_duration'],
      ['an identifier over 255 characters', { identifier: 'x'.repeat(256), type: 'heartbeat' }, 'invalid_field', 'identifier'],
      ['an empty identifier', { identifier: '', type: 'heartbeat' }, 'invalid_field', 'identifier'],
      ['an identifier with a newline', { identifier: 'a\nb', type: 'heartbeat' }, 'invalid_field', 'identifier'],
      ['an unknown type', { identifier: 'a', type: 'ping' }, 'invalid_field', 'type'],
    ])('refuses %s with a stable code naming the field', async (_name, body, code, field) => {
      const res = await vigil.api('POST', `/apps/${appId}/monitors`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message.startsWith(`${field}: `)).toBe(true);
    });

    it('refuses a second monitor with the same identifier in the app', async () => {
      await vigil.createMonitor(appId, { identifier: 'dup', type: 'heartbeat' });
      const res = await vigil.api('POST', `/apps/${appId}/monitors`, { identifier: 'dup', type: 'heartbeat' });
      expect(res.status).toBe(409);
    });

    it('counts an identifier\'s 255 characters as characters, also in a PUT path', async () => {
      const emoji = '😀'.repeat(200);
      expect((await vigil.api('POST', `/apps/${appId}/monitors`, { identifier: emoji, type: 'heartbeat' })).status).toBe(201);
      const tooLong = await vigil.api('POST', `/apps/${appId}/monitors`, { identifier: '😀'.repeat(256), type: 'heartbeat' });
      expect(tooLong.body.error).toEqual({ code: 'invalid_field', message: 'identifier: longer than 255 characters' });
      const long = `${'p'.repeat(200)}/é 😀`;
      const put = await vigil.api('PUT', `/apps/${appId}/monitors/by-identifier/${encodeURIComponent(long)}`, { type: 'heartbeat' });
      expect(put.status).toBe(201);
      expect(put.body.identifier).toBe(long);
    });

    it('PUT by identifier creates, then replaces (config as code)', async () => {
      const path = `/apps/${appId}/monitors/by-identifier/${encodeURIComponent('reports weekly')}`;
      const created = await vigil.api('PUT', path, { type: 'cron', schedule: '@weekly', description: 'weekly report', tags: ['x'] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ identifier: 'reports weekly', schedule: '@weekly', tags: ['x'] });
      const replaced = await vigil.api('PUT', path, { type: 'cron', schedule: '0 6 * * 1', timezone: 'America/New_York' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ id: created.body.id, schedule: '0 6 * * 1', timezone: 'America/New_York', description: '', tags: [] });
    });

    it('PATCH changes fields, re-validates the result, and can switch type', async () => {
      const { id } = await vigil.createMonitor(appId, { identifier: 'patchy', type: 'cron', schedule: '*/5 * * * *' });
      expect((await vigil.api('PATCH', `/monitors/${id}`, { max_duration: 120, failure_threshold: 3 })).body).toMatchObject({
        max_duration: 120,
        failure_threshold: 3,
        schedule: '*/5 * * * *',
      });
      expect((await vigil.api('PATCH', `/monitors/${id}`, { schedule: 'nope' })).body.error.code).toBe('invalid_schedule');
      const switched = await vigil.api('PATCH', `/monitors/${id}`, { type: 'heartbeat' });
      expect(switched.body).toMatchObject({ type: 'heartbeat', schedule: null, timezone: null });
    });

    it('pauses and resumes', async () => {
      const { id } = await vigil.createMonitor(appId, { identifier: 'pausable', type: 'heartbeat' });
      expect((await vigil.api('POST', `/monitors/${id}/pause`)).body).toMatchObject({ paused: true, status: 'paused', next_expected_at: null });
      expect((await vigil.api('POST', `/monitors/${id}/resume`)).body).toMatchObject({ paused: false, status: 'new' });
    });

    it('lists with status, last_event_at, filters and cursor pagination', async () => {
      const listApp = await vigil.createApp('Listing');
      for (let i = 0; i < 5; i++) {
        await vigil.createMonitor(listApp.id, { identifier: `job-${i}`, type: 'heartbeat', tags: i % 2 ? ['odd'] : [], description: i === 3 ? 'The Special one' : '' });
      }
      const beat = Math.floor(Date.now() / 1000) - 10;
      await ingest(vigil.url, `/check_ins/heartbeats?api_key=${listApp.key}&identifier=job-1&timestamp=${beat}`);
      // The evaluator picks the heartbeat up asynchronously: the monitor now waits for the next one.
      const all = await vi.waitFor(async () => {
        const res = await vigil.api('GET', `/apps/${listApp.id}/monitors`);
        expect(res.body.data.find((m: any) => m.identifier === 'job-1').status).toBe('running');
        return res;
      });
      expect(all.body.data.map((m: any) => m.identifier)).toEqual(['job-4', 'job-3', 'job-2', 'job-1', 'job-0']);
      expect(all.body.data.find((m: any) => m.identifier === 'job-1')).toMatchObject({
        last_event_at: new Date(beat * 1000).toISOString(),
        next_expected_at: new Date((beat + 300) * 1000).toISOString(),
      });
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?status=new`)).body.data).toHaveLength(4);
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?tag=odd`)).body.data.map((m: any) => m.identifier)).toEqual(['job-3', 'job-1']);
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?q=special`)).body.data.map((m: any) => m.identifier)).toEqual(['job-3']);
      const first = await vigil.api('GET', `/apps/${listApp.id}/monitors?limit=2`);
      expect(first.body.data.map((m: any) => m.identifier)).toEqual(['job-4', 'job-3']);
      const second = await vigil.api('GET', `/apps/${listApp.id}/monitors?limit=2&cursor=${first.body.next_cursor}`);
      expect(second.body.data.map((m: any) => m.identifier)).toEqual(['job-2', 'job-1']);
      const third = await vigil.api('GET', `/apps/${listApp.id}/monitors?limit=2&cursor=${second.body.next_cursor}`);
      expect(third.body).toMatchObject({ data: [{ identifier: 'job-0' }], next_cursor: null });
      // Filters combine with paging: each page holds `limit` matches.
      const odd = await vigil.api('GET', `/apps/${listApp.id}/monitors?tag=odd&limit=1`);
      expect(odd.body.data.map((m: any) => m.identifier)).toEqual(['job-3']);
      const odd2 = await vigil.api('GET', `/apps/${listApp.id}/monitors?tag=odd&limit=1&cursor=${odd.body.next_cursor}`);
      expect(odd2.body).toMatchObject({ data: [{ identifier: 'job-1' }], next_cursor: null });
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?status=running`)).body.data.map((m: any) => m.identifier)).toEqual(['job-1']);
      const job4 = all.body.data.find((m: any) => m.identifier === 'job-4');
      await vigil.api('POST', `/monitors/${job4.id}/pause`);
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?status=paused`)).body.data.map((m: any) => m.identifier)).toEqual(['job-4']);
      const fresh = await vigil.api('GET', `/apps/${listApp.id}/monitors?status=new&limit=2`);
      expect(fresh.body.data.map((m: any) => [m.identifier, m.status])).toEqual([
        ['job-3', 'new'],
        ['job-2', 'new'],
      ]);
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?status=new&cursor=${fresh.body.next_cursor}`)).body.data.map((m: any) => m.identifier)).toEqual(['job-0']);
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?q=nothing-matches`)).body).toEqual({ data: [], next_cursor: null });
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?status=sleepy`)).status).toBe(400);
      expect((await vigil.api('GET', `/apps/${listApp.id}/monitors?cursor=garbage`)).body.error.code).toBe('invalid_cursor');
    });

    it('pages through events newest first', async () => {
      const pageApp = await vigil.createApp('Paging');
      const { id } = await vigil.createMonitor(pageApp.id, { identifier: 'beat', type: 'heartbeat' });
      const base = Math.floor(Date.now() / 1000) - 60;
      for (let i = 0; i < 7; i++) await ingest(vigil.url, `/check_ins/heartbeats?api_key=${pageApp.key}&identifier=beat&timestamp=${base + i}`);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await vigil.api('GET', `/monitors/${id}/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.body.data.map((e: any) => e.timestamp));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => new Date((base + i) * 1000).toISOString()));
    });

    it('answers 404 with a code for unknown ids', async () => {
      expect((await vigil.api('GET', '/monitors/999999')).body.error.code).toBe('not_found');
      expect((await vigil.api('GET', '/monitors/abc')).status).toBe(404);
      expect((await vigil.api('GET', '/apps/999999/monitors')).status).toBe(404);
    });
  });

  describe('schedule preview', () => {
    it('follows classic cron across the spring-forward gap in Amsterdam', async () => {
      const res = await vigil.api('GET', '/schedule/preview?schedule=30+2+*+*+*&timezone=Europe/Amsterdam&from=2026-03-27T12:00:00Z&count=3');
      expect(res.body.data).toEqual([
        { at: '2026-03-28T01:30:00.000Z', local: '2026-03-28T02:30:00+01:00' },
        { at: '2026-03-29T01:00:00.000Z', local: '2026-03-29T03:00:00+02:00' },
        { at: '2026-03-30T00:30:00.000Z', local: '2026-03-30T02:30:00+02:00' },
      ]);
    });

    it('runs a fixed time once in the repeated fall-back hour', async () => {
      const res = await vigil.api('GET', '/schedule/preview?schedule=30+2+*+*+*&timezone=Europe/Amsterdam&from=2026-10-24T12:00:00Z&count=3');
      expect(res.body.data.map((t: any) => t.at)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
    });

    it('refuses an invalid or never-firing schedule naming the problem', async () => {
      const bad = await vigil.api('GET', '/schedule/preview?schedule=0+0+31+2+*');
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_schedule');
      const tz = await vigil.api('GET', '/schedule/preview?schedule=@daily&timezone=Nowhere/City');
      expect(tz.body.error.code).toBe('invalid_timezone');
    });
  });

  describe('operations', () => {
    it('answers healthz, readyz and metrics', async () => {
      expect(await (await fetch(`${vigil.url}/healthz`)).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`${vigil.url}/readyz`)).json()).toEqual({ status: 'ready' });
      const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
      expect(metrics).toContain('vigil_ingest_check_ins_total');
      expect(metrics).toContain('vigil_process_resident_memory_bytes');
      // Vigil's ever-growing _total series are typed counter, as Prometheus' rate() expects
      // (prom-client's own vigil_nodejs_active_*_total are gauges upstream).
      const types = [...metrics.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
      const totals = types.filter(([name]) => name!.endsWith('_total') && !name!.startsWith('vigil_nodejs_'));
      expect(totals.length).toBeGreaterThan(5);
      expect(totals.filter(([, type]) => type !== 'counter')).toEqual([]);
      expect(metrics).toMatch(/^vigil_ingest_commits_total \d+$/m);
    });
  });
});
