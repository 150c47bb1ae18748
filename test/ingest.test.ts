import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { StoreKinds, ingest, startVigil, storeAvailable, type Running } from './helpers.js';

const FIXTURES = new URL('../../shared/fixtures/appsignal/', import.meta.url).pathname;

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Reads the captured requests of a `.http` fixture (several may share a file). */
function readFixture(name: string): Captured[] {
  const text = readFileSync(join(FIXTURES, name), 'utf8');
  return text
    .split(/^(?=POST )/m)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const split = chunk.indexOf('\n\n');
      const head = split === -1 ? chunk : chunk.slice(0, split);
      const body = split === -1 ? '' : chunk.slice(split + 2).replace(/\s+$/, '');
      const [requestLine, ...headerLines] = head.split('\n');
      const [method, path] = requestLine!.split(' ');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const at = line.indexOf(':');
        if (at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      return { method: method!, path: path!, headers, body };
    });
}

for (const kind of StoreKinds)
  describe.skipIf(!storeAvailable(kind))(`ingest: what AppSignal clients put on the wire (${kind})`, () => {
  let vigil: Running;
  let app: { id: string; key: string };
  const monitors: Record<string, string> = {};

  // The fixtures were captured at these times; a server clock far from them would (rightly)
  // replace their timestamps with the receive time.
  const clock = new ManualClock(1795748600_000);

  beforeAll(async () => {
    vigil = await startVigil({}, { clock, store: kind });
    app = await vigil.createApp('Acme');
    for (const id of ['nightly-backup', 'sdk-cron', 'sdk-manual', 'sdk-finish-only']) {
      monitors[id] = (await vigil.createMonitor(app.id, { identifier: id, type: 'cron', schedule: '0 2 * * *' })).id;
    }
    for (const id of ['queue-worker', 'sdk-heartbeat']) {
      monitors[id] = (await vigil.createMonitor(app.id, { identifier: id, type: 'heartbeat', max_duration: 300 })).id;
    }
  });
  afterAll(() => vigil.stop());

  const events = async (identifier: string) => (await vigil.api('GET', `/monitors/${monitors[identifier]}/events`)).body.data as any[];

  it('finds every fixture', () => {
    expect(readdirSync(FIXTURES).filter((f) => f.endsWith('.http')).sort()).toEqual([
      'elixir.http',
      'legacy-heartbeats-json.http',
      'node-3.9.1.http',
      'python.http',
      'ruby.http',
      'single-object-2024.http',
      'wrap.http',
    ]);
  });

  it.each([
    ['node-3.9.1.http', 5],
    ['ruby.http', 2],
    ['python.http', 1],
    ['elixir.http', 2],
    ['single-object-2024.http', 1],
    ['legacy-heartbeats-json.http', 1],
    ['wrap.http', 1],
  ])('%s is accepted line for line with its headers', async (file, perRequest) => {
    for (const captured of readFixture(file)) {
      const path = captured.path.replace('api_key=k', `api_key=${app.key}`);
      const res = await ingest(vigil.url, path, captured.body || undefined, captured.headers);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ accepted: perRequest, rejected: [] });
    }
  });

  it('stored what each client sent: kinds, digests, timestamps, hostnames', async () => {
    const manual = await events('sdk-manual');
    expect(manual.map((e) => [e.kind, e.digest])).toEqual([
      ['finish', '05ac4ccfc678501a'],
      ['start', '05ac4ccfc678501a'],
    ]);
    const backup = await events('nightly-backup');
    // wrap: start then finish with one digest; legacy: name/id → identifier/digest.
    expect(backup.slice(0, 3).map((e) => [e.kind, e.digest, e.timestamp])).toEqual([
      ['finish', '0123456789abcdef', new Date(1795748623 * 1000).toISOString()],
      ['start', '0123456789abcdef', new Date(1795748500 * 1000).toISOString()],
      ['start', '4dd318e9ad3e440d', new Date(1795748500 * 1000).toISOString()],
    ]);
    expect(backup.map((e) => e.digest)).toContain('2bb318e9ad3e440d'); // ruby
    expect(backup.map((e) => e.digest)).toContain('5ee318e9ad3e440d'); // python
    expect(backup.find((e) => e.digest === '3cc318e9ad3e440d')).toMatchObject({ hostname: 'web-1', check_in_type: 'cron' }); // elixir
    const worker = await events('queue-worker');
    expect(worker.every((e) => e.check_in_type === 'heartbeat' && e.kind === null && e.digest === null)).toBe(true);
    expect(worker).toHaveLength(3); // ruby, elixir, wrap
    // Node sends an empty hostname; a bare `hostname` (Ruby) is empty too.
    expect((await events('sdk-heartbeat'))[0].hostname).toBeNull();
  });

  it('accepts a doubled slash and any Content-Type', async () => {
    const res = await ingest(vigil.url, `//check_ins/json?api_key=${app.key}`, '{"identifier":"queue-worker","check_in_type":"heartbeat"}', {
      'content-type': 'text/plain',
    });
    expect(res).toEqual({ status: 200, body: { accepted: 1, rejected: [] } });
  });

  it('replaces a timestamp more than 5 minutes off the receive time, keeping the client value', async () => {
    const res = await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=queue-worker&timestamp=${1795748600 - 301}`);
    expect(res.status).toBe(200);
    expect((await events('queue-worker'))[0]).toMatchObject({
      timestamp: new Date(1795748600_000).toISOString(),
      client_timestamp: new Date((1795748600 - 301) * 1000).toISOString(),
    });
    await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=queue-worker&timestamp=${1795748600 - 299}`);
    expect((await events('queue-worker'))[0]).toMatchObject({ timestamp: new Date((1795748600 - 299) * 1000).toISOString(), client_timestamp: null });
  });

  it('uses the receive time when the client sends no timestamp', async () => {
    const before = clock.now();
    await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=queue-worker`);
    const latest = (await events('queue-worker'))[0];
    expect(Date.parse(latest.timestamp)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(latest.received_at)).toBeGreaterThanOrEqual(before);
  });

  it('keeps the output and exit code of a kind=fail run (Vigil extension)', async () => {
    const res = await ingest(vigil.url, `/check_ins/cron?api_key=${app.key}&identifier=sdk-cron&kind=fail&exit_code=2&digest=abcdabcdabcdabcd`, 'disk full\n');
    expect(res).toEqual({ status: 200, body: { accepted: 1, rejected: [] } });
    expect((await events('sdk-cron'))[0]).toMatchObject({ kind: 'fail', exit_code: 2, output: 'disk full\n', digest: 'abcdabcdabcdabcd' });
  });

  it('accepts the complete lines of a body whose Content-Length was counted in UTF-16 units', async () => {
    const body = '{"identifier":"queue-worker","check_in_type":"heartbeat"}\n{"identifier":"café-job","check_in_type":"heartbeat"}';
    const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(`${vigil.url}/check_ins/json?api_key=${app.key}`, {
        method: 'POST',
        headers: { 'content-length': body.length, connection: 'close' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(Buffer.from(body).subarray(0, body.length));
    });
    expect(answer.status).toBe(200);
    expect(answer.body.accepted).toBe(1);
    expect(answer.body.rejected).toMatchObject([{ line: 2, code: 'invalid_json' }]);
  });
});

for (const kind of StoreKinds)
  describe.skipIf(!storeAvailable(kind))(`ingest: bad input (${kind})`, () => {
  let vigil: Running;
  let app: { id: string; key: string };
  let monitorId: string;

  beforeAll(async () => {
    vigil = await startVigil({}, { store: kind });
    app = await vigil.createApp('Acme');
    monitorId = (await vigil.createMonitor(app.id, { identifier: 'job', type: 'cron', schedule: '*/5 * * * *' })).id;
    await vigil.createMonitor(app.id, { identifier: 'beat', type: 'heartbeat' });
  });
  afterAll(() => vigil.stop());

  const eventCount = async () => (await vigil.api('GET', `/monitors/${monitorId}/events?limit=500`)).body.data.length as number;
  const ingestErrors = async () => (await vigil.api('GET', `/apps/${app.id}/ingest-errors`)).body.data as any[];

  it('refuses a missing or unknown key with 401 and stores nothing', async () => {
    const before = await eventCount();
    expect(await ingest(vigil.url, '/check_ins/cron?identifier=job')).toEqual({
      status: 401,
      body: { error: { code: 'missing_api_key', message: expect.stringContaining('api_key') } },
    });
    const unknown = await ingest(vigil.url, '/check_ins/json?api_key=nope', '{"identifier":"job"}');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('invalid_api_key');
    expect(await eventCount()).toBe(before);
  });

  it('answers 400 naming the line and field when nothing is usable, and records the errors', async () => {
    const before = await eventCount();
    const res = await ingest(vigil.url, `/check_ins/json?api_key=${app.key}`, '{"identifier":"job","timestamp":"noon"}\n{oops');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_field');
    expect(res.body.error.message).toMatch(/^line 1: timestamp: .*\(1 more lines rejected\)$/);
    expect(await eventCount()).toBe(before);
    const errors = await ingestErrors();
    expect(errors.slice(0, 2).map((e) => [e.line, e.code])).toEqual([
      [2, 'invalid_json'],
      [1, 'invalid_field'],
    ]);
  });

  it('stores the good lines of a mixed batch and lists the rejected ones', async () => {
    const before = await eventCount();
    const body = [
      '{"identifier":"job","kind":"start","digest":"1111111111111111","check_in_type":"cron"}',
      '{"identifier":42}',
      '{"identifier":"no-such-monitor","check_in_type":"cron"}',
      '{"identifier":"beat","check_in_type":"cron"}',
      '{"identifier":"job","kind":"finish","digest":"1111111111111111","check_in_type":"cron"}',
    ].join('\n');
    const res = await ingest(vigil.url, `/check_ins/json?api_key=${app.key}`, body);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected.map((r: any) => [r.line, r.code])).toEqual([
      [2, 'invalid_field'],
      [3, 'unknown_identifier'],
      [4, 'check_in_type_mismatch'],
    ]);
    expect(await eventCount()).toBe(before + 2);
    const errors = await ingestErrors();
    expect(errors.find((e) => e.code === 'unknown_identifier')).toMatchObject({ identifier: 'no-such-monitor', line: 3 });
  });

  it('answers 2xx for an unknown identifier (clients never retry) and records an ingest error', async () => {
    const res = await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=ghost`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 0, rejected: [{ line: 1, code: 'unknown_identifier', message: 'line 1: no monitor "ghost" in this app' }] });
    expect((await ingestErrors())[0]).toMatchObject({ identifier: 'ghost', code: 'unknown_identifier' });
  });

  it('refuses an identifier over 255 characters', async () => {
    const res = await ingest(vigil.url, `/check_ins/cron?api_key=${app.key}&identifier=${'x'.repeat(256)}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'invalid_field', message: 'line 1: identifier: longer than 255 characters' });
  });

  it('refuses wrong field types in NDJSON', async () => {
    const res = await ingest(vigil.url, `/check_ins/json?api_key=${app.key}`, '{"identifier":"job","check_in_type":"cron","kind":["start"]}');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('line 1: kind: expected a string, got an array');
  });

  it('refuses an empty body', async () => {
    const res = await ingest(vigil.url, `/check_ins/json?api_key=${app.key}`, '\n\n');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('empty_body');
  });

  it('refuses a 2 MiB body with 413 and stores nothing from it', async () => {
    const before = await eventCount();
    const line = '{"identifier":"job","kind":"finish","check_in_type":"cron"}\n';
    const body = line.repeat(Math.ceil((2 * 1024 * 1024) / line.length));
    const res = await ingest(vigil.url, `/check_ins/json?api_key=${app.key}`, body);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
    expect(await eventCount()).toBe(before);
    // The server still answers afterwards.
    expect((await ingest(vigil.url, `/check_ins/cron?api_key=${app.key}&identifier=job`)).status).toBe(200);
  });

  it('never reads the body of a request it refuses for its key: a huge upload is cut off after the 401', async () => {
    const socket = connect(Number(new URL(vigil.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const declared = 300 * 2 ** 20;
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // the reset once Vigil closes
    socket.write(`POST /check_ins/json?api_key=nope HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n`);
    const chunk = Buffer.alloc(2 ** 20);
    let sent = 0;
    let open = true;
    void closed.then(() => (open = false));
    while (open && sent < declared) {
      if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
      sent += chunk.length;
    }
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/connection: close/i);
    expect(sent).toBeLessThan(64 * 2 ** 20);
  });

  it('ignores what a heartbeat line carries as kind, digest, exit code or output', async () => {
    const beat = await vigil.api('GET', `/apps/${app.id}/monitors?q=beat`);
    const beatId = beat.body.data[0].id as string;
    const body = [
      '{"identifier":"beat","check_in_type":"heartbeat","kind":5}',
      `{"identifier":"beat","check_in_type":"heartbeat","digest":"${'d'.repeat(300)}"}`,
      '{"identifier":"beat","kind":"start","digest":"dd","exit_code":9,"output":"zzz"}',
    ].join('\n');
    expect(await ingest(vigil.url, `/check_ins/json?api_key=${app.key}`, body)).toEqual({ status: 200, body: { accepted: 3, rejected: [] } });
    const stored = (await vigil.api('GET', `/monitors/${beatId}/events`)).body.data.slice(0, 3);
    expect(stored.map((e: any) => [e.check_in_type, e.kind, e.digest, e.exit_code, e.output])).toEqual(Array(3).fill(['heartbeat', null, null, null, null]));
  });

  it('answers missing_field for a missing identifier, as the ingest error says', async () => {
    const res = await ingest(vigil.url, `/check_ins/json?api_key=${app.key}`, '{"kind":"start"}');
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'missing_field', message: 'line 1: identifier: required' });
    expect((await ingestErrors())[0]).toMatchObject({ code: 'missing_field', identifier: null });
  });

  it('keeps at most 100 KB of a failed run\'s output, never cutting a character in two', async () => {
    const output = `${'x'.repeat(100 * 1024 - 1)}é${'TAIL'.repeat(100)}`;
    expect((await ingest(vigil.url, `/check_ins/cron?api_key=${app.key}&identifier=job&kind=fail&exit_code=1`, output)).status).toBe(200);
    const stored = (await vigil.api('GET', `/monitors/${monitorId}/events`)).body.data[0].output as string;
    expect(stored).toBe('x'.repeat(100 * 1024 - 1));
  });

  it('answers 405 for a GET', async () => {
    const res = await fetch(`${vigil.url}/check_ins/cron?api_key=${app.key}&identifier=job`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('a rotated key stops working at once, and the new one works', async () => {
    const other = await vigil.createApp('Rotating');
    await vigil.createMonitor(other.id, { identifier: 'beat', type: 'heartbeat' });
    expect((await ingest(vigil.url, `/check_ins/heartbeats?api_key=${other.key}&identifier=beat`)).status).toBe(200);
    const rotated = await vigil.api('POST', `/apps/${other.id}/push-key/rotate`);
    expect(rotated.status).toBe(200);
    expect((await ingest(vigil.url, `/check_ins/heartbeats?api_key=${other.key}&identifier=beat`)).status).toBe(401);
    expect((await ingest(vigil.url, `/check_ins/heartbeats?api_key=${rotated.body.push_api_key}&identifier=beat`)).status).toBe(200);
  });

  it('a deleted monitor turns its check-ins into ingest errors at once', async () => {
    const { id } = await vigil.createMonitor(app.id, { identifier: 'doomed', type: 'heartbeat' });
    expect((await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=doomed`)).body.accepted).toBe(1);
    expect((await vigil.api('DELETE', `/monitors/${id}`)).status).toBe(204);
    const res = await ingest(vigil.url, `/check_ins/heartbeats?api_key=${app.key}&identifier=doomed`);
    expect(res.body).toMatchObject({ accepted: 0, rejected: [{ code: 'unknown_identifier' }] });
  });
});
