/**
 * Notification channels against real local receivers: node:http for the HTTP services and
 * smtp-server for email. Checks wire formats, outcome classification, redaction and config errors.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VigilError } from '../src/errors.js';
import { closeEmailTransports, createEmailChannel, redactSmtpUrl } from '../src/notify/channels/email.js';
import { channels, ChannelTypes, createChannels, isChannelType } from '../src/notify/channels/index.js';
import {
  buildMessage,
  cronReason,
  formatClock,
  formatDuration,
  formatLimit,
  heartbeatReason,
  localParts,
  renderText,
} from '../src/notify/channels/message.js';
import type { Channel, DeliveryOutcome, Notification } from '../src/notify/types.js';

// 2026-03-28 01:30Z is 02:30 in Amsterdam (CET, UTC+1); the deadline 02:00Z is 03:00 there.
const sample: Notification = {
  event: 'incident.opened',
  deliveryId: 'dlv_0123456789',
  incident: { id: 'inc_42', reason: 'missed', opened_at: '2026-03-28T02:00:20Z', resolved_at: null },
  monitor: {
    id: 'mon_7',
    identifier: 'nightly-backup',
    type: 'cron',
    status: 'failing',
    url: 'http://vigil.example.com/monitors/mon_7',
    schedule: '30 2 * * *',
    timezone: 'Europe/Amsterdam',
    max_duration: 1800,
    last_success_at: '2026-03-27T01:31:00Z',
  },
  app: { id: 'app_1', name: 'Acme', environment: 'production' },
  occurrence: {
    id: 'occ_9',
    status: 'missed',
    expected_at: '2026-03-28T01:30:00Z',
    deadline: '2026-03-28T02:00:00Z',
    started_at: null,
    finished_at: null,
    duration: null,
    digest: null,
  },
};
const resolved: Notification = {
  ...sample,
  event: 'incident.resolved',
  incident: { ...sample.incident, resolved_at: '2026-03-30T00:31:00Z' },
  // The next night, after the switch to summer time: 00:30Z is 02:30 CEST.
  occurrence: { ...sample.occurrence!, id: 'occ_10', status: 'success', expected_at: '2026-03-30T00:30:00Z', deadline: '2026-03-30T01:00:00Z', finished_at: '2026-03-30T00:31:00Z' },
};
const testEvent: Notification = { ...sample, event: 'test', deliveryId: 'dlv_test_1' };
const heartbeat: Notification = {
  ...sample,
  monitor: { ...sample.monitor, identifier: 'queue-worker', type: 'heartbeat', schedule: null, timezone: null, max_duration: 300 },
  occurrence: { ...sample.occurrence!, expected_at: '2026-03-28T01:02:00Z', deadline: '2026-03-28T01:07:00Z' },
};
const NOW = Date.parse('2026-03-28T02:15:00Z');

// ---------------------------------------------------------------------------------------------
// A local HTTP receiver that records requests and answers what the test asks for.

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  requests: Received[];
  last(): Received;
  reply(status: number, body?: string, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  let answer = { status: 200, body: '', headers: {} as Record<string, string> };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    last() {
      const request = requests.at(-1);
      if (!request) throw new Error('no request received');
      return request;
    },
    reply(status, body = '', headers = {}) {
      answer = { status, body, headers };
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function fieldOf(fn: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VigilError);
    const e = error as VigilError;
    return { code: e.code, field: e.field, message: e.message };
  }
  throw new Error('expected a VigilError');
}

const retryable = (o: DeliveryOutcome): boolean => !o.ok && o.permanent !== true;

let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
});

// ---------------------------------------------------------------------------------------------

describe('message text', () => {
  it('formats durations, limits and wall-clock times in the monitor zone', () => {
    expect(formatDuration(45_000)).toBe('45 seconds');
    expect(formatDuration(60_000)).toBe('1 minute');
    expect(formatDuration(12 * 60_000 + 20_000)).toBe('12 minutes');
    expect(formatDuration(65 * 60_000)).toBe('1 hour 5 minutes');
    expect(formatDuration(51 * 3_600_000)).toBe('2 days 3 hours');
    expect(formatDuration(-5000)).toBe('0 seconds');
    expect(formatLimit(300)).toBe('5 minute');
    expect(formatLimit(5400)).toBe('90 minute');
    expect(formatLimit(7200)).toBe('2 hour');
    expect(formatLimit(45)).toBe('45 second');
    expect(localParts('2026-03-28T01:30:00Z', 'Europe/Amsterdam')).toEqual({ date: '2026-03-28', time: '02:30' });
    // After the spring-forward change the offset is +2.
    expect(localParts('2026-03-30T00:30:00Z', 'Europe/Amsterdam')).toEqual({ date: '2026-03-30', time: '02:30' });
    expect(formatClock('2026-03-28T23:10:00Z', 'UTC', '2026-03-28T22:30:00Z')).toBe('23:10');
    expect(formatClock('2026-03-29T00:10:00Z', 'UTC', '2026-03-28T23:30:00Z')).toBe('00:10 on 2026-03-29');
  });

  it('says why a cron incident opened, for each reason', () => {
    const o = sample.occurrence!;
    const zone = 'Europe/Amsterdam';
    expect(cronReason('missed', o, zone, NOW)).toBe('did not report a finish by 03:00; it is 15 minutes overdue');
    expect(cronReason('late', { ...o, finished_at: '2026-03-28T02:12:00Z' }, zone, NOW)).toBe('finished 12 minutes after its deadline (03:00)');
    expect(cronReason('failed', { ...o, finished_at: '2026-03-28T01:41:00Z', duration: 660 }, zone, NOW)).toBe(
      'reported a failure (kind=fail) at 02:41 after running for 11 minutes',
    );
    expect(cronReason('timeout', { ...o, started_at: '2026-03-28T01:30:00Z' }, zone, NOW)).toBe(
      'started at 02:30 but never finished (deadline 03:00); it is 15 minutes overdue',
    );
    expect(cronReason('missed', null, zone, NOW)).toBe('did not report in time');
  });

  it('builds the opened message: job, app, slot, reason, last success, link', () => {
    const m = buildMessage(sample, NOW);
    expect(m.kind).toBe('opened');
    expect(m.subject).toBe('[Vigil] nightly-backup missed its 02:30 run (Acme production)');
    expect(m.summary).toBe(
      'nightly-backup (Acme production) missed its 02:30 run (Europe/Amsterdam) on 2026-03-28: it did not report a finish by 03:00; it is 15 minutes overdue.',
    );
    const text = renderText(m);
    expect(text).toContain('Last success: 2026-03-27 02:31 (Europe/Amsterdam)');
    expect(text).toContain('Open monitor: http://vigil.example.com/monitors/mon_7');
    expect(renderText(buildMessage({ ...sample, monitor: { ...sample.monitor, last_success_at: null } }, NOW))).toContain('Last success: never');
    expect(buildMessage({ ...sample, incident: { ...sample.incident, reason: 'late' } }, NOW).subject).toBe(
      '[Vigil] nightly-backup was late with its 02:30 run (Acme production)',
    );
  });

  it('describes heartbeats by their silence', () => {
    expect(heartbeatReason(heartbeat, NOW)).toBe(
      'has been silent since 2026-03-28 01:02 (UTC), longer than its 5 minute limit (silent for 1 hour 13 minutes)',
    );
    expect(buildMessage(heartbeat, NOW).subject).toBe('[Vigil] queue-worker stopped sending heartbeats (Acme production)');
  });

  it('builds resolved and test messages', () => {
    const r = buildMessage(resolved, NOW);
    expect(r.kind).toBe('resolved');
    expect(r.subject).toBe('[Vigil] Resolved: nightly-backup (Acme production)');
    expect(r.summary).toBe(
      'nightly-backup (Acme production) recovered: its 02:30 run (Europe/Amsterdam) on 2026-03-30 succeeded. The incident (a missed run) lasted 1 day 22 hours.',
    );
    const t = buildMessage(testEvent, NOW);
    expect(t.kind).toBe('test');
    expect(t.summary).toContain('This is a test notification');
    expect(t.subject).toBe('[Vigil] Test: nightly-backup (Acme production)');
  });
});

// ---------------------------------------------------------------------------------------------
// The classification every HTTP channel shares, against the real receiver.

interface HttpCase {
  name: string;
  channel: Channel<unknown>;
  config: () => unknown;
  okStatus: number;
  okBody: string;
  errorBody: (status: number) => string;
}

const httpCases: HttpCase[] = [
  { name: 'webhook', channel: channels.webhook, config: () => ({ url: `${rx.url}/hook`, secret: 'a-very-long-secret' }), okStatus: 200, okBody: '', errorBody: () => 'nope' },
  { name: 'slack', channel: channels.slack, config: () => ({ webhook_url: `${rx.url}/services/T1/B2/xyz` }), okStatus: 200, okBody: 'ok', errorBody: () => 'invalid_payload' },
  { name: 'discord', channel: channels.discord, config: () => ({ webhook_url: `${rx.url}/api/webhooks/1/tok` }), okStatus: 204, okBody: '', errorBody: () => '{"message":"bad"}' },
  { name: 'teams', channel: channels.teams, config: () => ({ webhook_url: `${rx.url}/workflows/abc?sig=s3cr3tsig` }), okStatus: 202, okBody: '', errorBody: () => 'error' },
  {
    name: 'pagerduty',
    channel: channels.pagerduty,
    config: () => ({ routing_key: 'R0UTINGKEY0123456789abcdefABCDEF', base_url: rx.url }),
    okStatus: 202,
    okBody: '{"status":"success","message":"Event processed","dedup_key":"vigil-incident-inc_42"}',
    errorBody: () => '{"status":"invalid event","message":"Event object is invalid"}',
  },
  { name: 'ntfy', channel: channels.ntfy, config: () => ({ server_url: rx.url, topic: 'vigil-alerts' }), okStatus: 200, okBody: '{"id":"x"}', errorBody: () => '{"error":"x"}' },
  {
    name: 'telegram',
    channel: channels.telegram,
    config: () => ({ bot_token: '123456:AAH-secret_token_value', chat_id: -100123, api_url: rx.url }),
    okStatus: 200,
    okBody: '{"ok":true,"result":{"message_id":1}}',
    errorBody: (status) => JSON.stringify({ ok: false, error_code: status, description: 'Bad Request: chat not found' }),
  },
];

describe.each(httpCases)('$name: answer classification', (c) => {
  const send = () => c.channel.send(c.channel.parseConfig(c.config()), sample);

  it('2xx is ok', async () => {
    rx.reply(c.okStatus, c.okBody);
    const outcome = await send();
    expect(outcome).toMatchObject({ ok: true, status: c.okStatus });
    expect(rx.last().method).toBe('POST');
  });

  it.each([500, 503, 429, 408])('%i is retryable', async (status) => {
    rx.reply(status, c.errorBody(status));
    const outcome = await send();
    expect(outcome.ok).toBe(false);
    expect(outcome.status).toBe(status);
    expect(retryable(outcome)).toBe(true);
  });

  it.each([400, 401, 404])('%i is permanent', async (status) => {
    rx.reply(status, c.errorBody(status));
    const outcome = await send();
    expect(outcome).toMatchObject({ ok: false, status, permanent: true });
    expect(outcome.detail).toContain(String(status));
  });

  it('a redirect is permanent (the URL needs fixing)', async () => {
    rx.reply(302, '', { location: 'http://127.0.0.1:1/elsewhere' });
    expect(await send()).toMatchObject({ ok: false, status: 302, permanent: true });
  });

  it('a refused connection is retryable, with no status and no secret in the detail', async () => {
    const dead = await startReceiver();
    await dead.close();
    const config = JSON.parse(JSON.stringify(c.config()).split(rx.url).join(dead.url)) as unknown;
    const outcome = await c.channel.send(c.channel.parseConfig(config), sample);
    expect(outcome).toMatchObject({ ok: false, status: null });
    expect(retryable(outcome)).toBe(true);
    expect(outcome.detail).toMatch(/ECONNREFUSED/);
    expect(outcome.detail).not.toContain('secret_token_value');
  });

  it('rejects a config that is not an object, or has unknown settings', () => {
    expect(fieldOf(() => c.channel.parseConfig('x'))).toMatchObject({ field: 'config' });
    const extra = { ...(c.config() as object), colour: 'red' };
    expect(fieldOf(() => c.channel.parseConfig(extra))).toMatchObject({ code: 'invalid_field', field: 'config.colour' });
  });
});

describe('channel registry', () => {
  it('lists every type; createChannels adds email', () => {
    expect([...ChannelTypes].sort()).toEqual(['discord', 'email', 'ntfy', 'pagerduty', 'slack', 'teams', 'telegram', 'webhook']);
    const all = createChannels({ smtpUrl: undefined, from: undefined });
    for (const type of ChannelTypes) expect(all[type].type).toBe(type);
    expect(isChannelType('slack')).toBe(true);
    expect(isChannelType('fax')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Wire formats, one service at a time.

/** The text must say what happened in plain words, wherever a service puts it. */
function expectPlainWords(text: string): void {
  expect(text).toContain('nightly-backup');
  expect(text).toContain('Acme');
  expect(text).toContain('production');
  expect(text).toContain('02:30');
  expect(text).toContain('did not report a finish by 03:00');
  expect(text).toContain('http://vigil.example.com/monitors/mon_7');
}

describe('webhook', () => {
  const secret = 'whsec_0123456789abcdef';
  const config = () => channels.webhook.parseConfig({ url: `${rx.url}/hooks/vigil?team=ops`, secret, headers: { 'X-Api-Key': 'k3y-value' } });

  it('POSTs the SPEC §5 JSON with event, delivery and a valid HMAC signature', async () => {
    rx.reply(200);
    expect(await channels.webhook.send(config(), sample)).toMatchObject({ ok: true, status: 200 });
    const req = rx.last();
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/vigil?team=ops');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['vigil-event']).toBe('incident.opened');
    expect(req.headers['vigil-delivery']).toBe('dlv_0123456789');
    expect(req.headers['x-api-key']).toBe('k3y-value');
    expect(req.headers['user-agent']).toBe('Vigil');
    const expected = `sha256=${createHmac('sha256', secret).update(Buffer.from(req.body, 'utf8')).digest('hex')}`;
    expect(req.headers['vigil-signature']).toBe(expected);
    const body = JSON.parse(req.body);
    expect(Object.keys(body)).toEqual(['event', 'incident', 'monitor', 'app', 'occurrence']);
    expect(body).toEqual({
      event: 'incident.opened',
      incident: { id: 'inc_42', reason: 'missed', opened_at: '2026-03-28T02:00:20Z', resolved_at: null },
      monitor: { id: 'mon_7', identifier: 'nightly-backup', type: 'cron', status: 'failing', url: 'http://vigil.example.com/monitors/mon_7' },
      app: { id: 'app_1', name: 'Acme', environment: 'production' },
      occurrence: sample.occurrence,
    });
  });

  it('sends resolved and test events with their names and a null occurrence when there is none', async () => {
    rx.reply(204);
    await channels.webhook.send(config(), resolved);
    expect(rx.last().headers['vigil-event']).toBe('incident.resolved');
    expect(JSON.parse(rx.last().body).incident.resolved_at).toBe('2026-03-30T00:31:00Z');
    await channels.webhook.send(config(), { ...testEvent, occurrence: null });
    expect(rx.last().headers['vigil-event']).toBe('test');
    expect(JSON.parse(rx.last().body).occurrence).toBeNull();
  });

  it('lets a configured User-Agent replace Vigil\'s', async () => {
    rx.reply(200);
    await channels.webhook.send(channels.webhook.parseConfig({ url: `${rx.url}/h`, secret, headers: { 'User-Agent': 'custom/1' } }), sample);
    expect(rx.last().headers['user-agent']).toBe('custom/1');
  });

  it('validates its config and names the field', () => {
    expect(fieldOf(() => channels.webhook.parseConfig({ secret }))).toEqual({ code: 'missing_field', field: 'config.url', message: 'config.url: required' });
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'ftp://example.com/x', secret }))).toEqual({
      code: 'invalid_field',
      field: 'config.url',
      message: 'config.url: must be an http(s) URL',
    });
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'not a url', secret })).field).toBe('config.url');
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'https://example.com' })).field).toBe('config.secret');
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'https://example.com', secret: 'short' })).message).toBe(
      'config.secret: must be at least 16 characters',
    );
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'https://example.com', secret: ` ${secret}` })).field).toBe('config.secret');
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'https://example.com', secret, headers: { 'Vigil-Event': 'x' } })).field).toBe(
      'config.headers.Vigil-Event',
    );
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'https://example.com', secret, headers: { 'X-A': 'a\r\nb' } })).field).toBe('config.headers.X-A');
    expect(fieldOf(() => channels.webhook.parseConfig({ url: 'https://example.com', secret, headers: { 'bad name': 'a' } })).field).toBe(
      'config.headers.bad name',
    );
  });

  it('redacts the secret and header values', () => {
    const shown = JSON.stringify(channels.webhook.redact(channels.webhook.parseConfig({ url: 'https://u:pw@example.com/in?token=abc123', secret, headers: { Authorization: 'Bearer zzz' } })));
    expect(shown).not.toContain(secret);
    expect(shown).not.toContain('Bearer zzz');
    expect(shown).not.toContain('abc123');
    expect(shown).not.toContain('pw@');
    expect(shown).toContain('"url":"https://example.com/****"');
  });
});

describe('slack', () => {
  const url = () => `${rx.url}/services/T000/B000/XXXXSECRETXXXX`;

  it('POSTs text and blocks (header, mrkdwn section, fields, link button, context)', async () => {
    rx.reply(200, 'ok');
    expect(await channels.slack.send(channels.slack.parseConfig({ webhook_url: url() }), sample)).toMatchObject({ ok: true });
    const req = rx.last();
    expect(req.url).toBe('/services/T000/B000/XXXXSECRETXXXX');
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.body);
    expectPlainWords(body.text + body.blocks[1].text.text + JSON.stringify(body.blocks));
    expect(body.blocks.map((b: any) => b.type)).toEqual(['header', 'section', 'section', 'actions', 'context']);
    expect(body.blocks[0].text.type).toBe('plain_text');
    expect(body.blocks[1].text.type).toBe('mrkdwn');
    expect(body.blocks[1].text.text).toContain('did not report a finish by 03:00');
    expect(body.blocks[2].fields.length).toBeGreaterThan(2);
    expect(body.blocks[3].elements[0]).toMatchObject({ type: 'button', url: 'http://vigil.example.com/monitors/mon_7' });
  });

  it('escapes mrkdwn control characters', async () => {
    rx.reply(200, 'ok');
    await channels.slack.send(channels.slack.parseConfig({ webhook_url: url() }), { ...sample, app: { ...sample.app, name: 'A&B <ops>' } });
    const body = JSON.parse(rx.last().body);
    expect(body.text).toContain('A&amp;B &lt;ops&gt;');
  });

  it('validates and redacts the webhook URL', () => {
    expect(fieldOf(() => channels.slack.parseConfig({})).field).toBe('config.webhook_url');
    expect(fieldOf(() => channels.slack.parseConfig({ webhook_url: 'hooks.slack.com/x' })).message).toBe('config.webhook_url: must be an http(s) URL');
    const shown = JSON.stringify(channels.slack.redact(channels.slack.parseConfig({ webhook_url: 'https://hooks.slack.com/services/T0/B0/SECRET' })));
    expect(shown).toBe('{"webhook_url":"https://hooks.slack.com/****"}');
  });
});

describe('discord', () => {
  const config = () => channels.discord.parseConfig({ webhook_url: `${rx.url}/api/webhooks/123/TOKEN_abc` });

  it('POSTs one embed: red when opened, with fields, link and timestamp', async () => {
    rx.reply(204);
    expect(await channels.discord.send(config(), sample)).toMatchObject({ ok: true, status: 204 });
    const req = rx.last();
    expect(req.url).toBe('/api/webhooks/123/TOKEN_abc');
    const body = JSON.parse(req.body);
    expect(body.content).toBeNull();
    expect(body.allowed_mentions).toEqual({ parse: [] });
    const [embed] = body.embeds;
    expect(embed.title).toBe('nightly-backup missed its 02:30 run');
    expect(embed.url).toBe('http://vigil.example.com/monitors/mon_7');
    expect(embed.color).toBe(0xd93f3f);
    expect(embed.timestamp).toBe('2026-03-28T02:00:20Z');
    expect(embed.fields.find((f: any) => f.name === 'Last success').value).toBe('2026-03-27 02:31 (Europe/Amsterdam)');
    expectPlainWords(embed.description + JSON.stringify(embed.fields) + embed.url);
  });

  it('uses green for resolved', async () => {
    rx.reply(204);
    await channels.discord.send(config(), resolved);
    const [embed] = JSON.parse(rx.last().body).embeds;
    expect(embed.color).toBe(0x2eb67d);
    expect(embed.description).toContain('recovered');
    expect(embed.timestamp).toBe('2026-03-30T00:31:00Z');
  });

  it('redacts the token in the URL', () => {
    expect(JSON.stringify(channels.discord.redact(config()))).not.toContain('TOKEN_abc');
  });
});

describe('teams', () => {
  const config = () => channels.teams.parseConfig({ webhook_url: `${rx.url}/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGNATURE123` });

  it('POSTs a message with an Adaptive Card 1.4 and an Open monitor action', async () => {
    rx.reply(202);
    expect(await channels.teams.send(config(), sample)).toMatchObject({ ok: true, status: 202 });
    const req = rx.last();
    expect(req.url).toBe('/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGNATURE123');
    const body = JSON.parse(req.body);
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const [attachment] = body.attachments;
    expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment.content).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    expect(attachment.content.body.map((b: any) => b.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet']);
    expect(attachment.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open monitor', url: 'http://vigil.example.com/monitors/mon_7' }]);
    expectPlainWords(JSON.stringify(attachment.content));
  });

  it('reads the error a legacy connector hides in a 200 answer', async () => {
    rx.reply(200, 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId x');
    const outcome = await channels.teams.send(config(), sample);
    expect(outcome.ok).toBe(false);
    expect(retryable(outcome)).toBe(true);
  });

  it('redacts the signature in path and query', () => {
    const shown = JSON.stringify(channels.teams.redact(config()));
    expect(shown).not.toContain('SIGNATURE123');
    expect(shown).not.toContain('workflows/abc');
  });
});

describe('pagerduty', () => {
  const key = 'R0UTINGKEY0123456789abcdefABCDEF';
  const config = (extra: Record<string, unknown> = {}) => channels.pagerduty.parseConfig({ routing_key: key, base_url: `${rx.url}/`, ...extra });

  it('triggers with a dedup key per incident, summary, severity, details and a link', async () => {
    rx.reply(202, '{"status":"success","message":"Event processed","dedup_key":"vigil-incident-inc_42"}');
    expect(await channels.pagerduty.send(config(), sample)).toMatchObject({ ok: true, status: 202 });
    const req = rx.last();
    expect(req.url).toBe('/v2/enqueue');
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      routing_key: key,
      event_action: 'trigger',
      dedup_key: 'vigil-incident-inc_42',
      payload: { summary: 'nightly-backup missed its 02:30 run (Acme production)', source: 'vigil', severity: 'error', timestamp: '2026-03-28T02:00:20Z' },
      links: [{ href: 'http://vigil.example.com/monitors/mon_7', text: 'Monitor' }],
    });
    expectPlainWords(JSON.stringify(body.payload.custom_details));
  });

  it('resolves with only routing_key, event_action and dedup_key', async () => {
    rx.reply(202, '{"status":"success"}');
    await channels.pagerduty.send(config(), resolved);
    expect(JSON.parse(rx.last().body)).toEqual({ routing_key: key, event_action: 'resolve', dedup_key: 'vigil-incident-inc_42' });
  });

  it('sends a test as an info trigger with its own dedup key; honours severity', async () => {
    rx.reply(202, '{}');
    await channels.pagerduty.send(config({ severity: 'critical' }), testEvent);
    const body = JSON.parse(rx.last().body);
    expect(body).toMatchObject({ event_action: 'trigger', dedup_key: 'vigil-test-dlv_test_1', payload: { severity: 'info' } });
    await channels.pagerduty.send(config({ severity: 'critical' }), sample);
    expect(JSON.parse(rx.last().body).payload.severity).toBe('critical');
  });

  it('validates and redacts', () => {
    expect(fieldOf(() => channels.pagerduty.parseConfig({})).field).toBe('config.routing_key');
    expect(fieldOf(() => channels.pagerduty.parseConfig({ routing_key: key, severity: 'panic' })).message).toBe(
      'config.severity: must be one of critical, error, warning, info',
    );
    expect(fieldOf(() => channels.pagerduty.parseConfig({ routing_key: key, base_url: 'events.pagerduty.com' })).field).toBe('config.base_url');
    const parsed = channels.pagerduty.parseConfig({ routing_key: key });
    expect(parsed.base_url).toBe('https://events.pagerduty.com');
    expect(JSON.stringify(channels.pagerduty.redact(parsed))).not.toContain(key);
  });
});

describe('ntfy', () => {
  const config = (extra: Record<string, unknown> = {}) => channels.ntfy.parseConfig({ server_url: rx.url, topic: 'vigil-alerts', ...extra });

  it('POSTs the plain text with Title, Priority, Tags, Click and a bearer token', async () => {
    rx.reply(200, '{"id":"abc"}');
    expect(await channels.ntfy.send(config({ token: 'tk_secrettoken123456' }), sample)).toMatchObject({ ok: true });
    const req = rx.last();
    expect(req.url).toBe('/vigil-alerts');
    expect(req.headers.title).toBe('nightly-backup missed its 02:30 run (Acme production)');
    expect(req.headers.priority).toBe('urgent');
    expect(req.headers.tags).toBe('rotating_light');
    expect(req.headers.click).toBe('http://vigil.example.com/monitors/mon_7');
    expect(req.headers.authorization).toBe('Bearer tk_secrettoken123456');
    expectPlainWords(req.body);
  });

  it('uses default priority and a check mark for resolved; RFC 2047 for non-ASCII titles', async () => {
    rx.reply(200, '{}');
    await channels.ntfy.send(config({ priority: 'high' }), { ...resolved, app: { ...resolved.app, name: 'Ärzte' } });
    const req = rx.last();
    expect(req.headers.priority).toBe('default');
    expect(req.headers.tags).toBe('white_check_mark');
    expect(req.headers.authorization).toBeUndefined();
    const encoded = /^=\?UTF-8\?B\?(.+)\?=$/.exec(String(req.headers.title));
    expect(Buffer.from(encoded![1]!, 'base64').toString('utf8')).toBe('Resolved: nightly-backup (Ärzte production)');
    await channels.ntfy.send(config({ priority: 'high' }), sample);
    expect(rx.last().headers.priority).toBe('high');
  });

  it('validates and redacts', () => {
    expect(fieldOf(() => channels.ntfy.parseConfig({})).field).toBe('config.topic');
    expect(fieldOf(() => channels.ntfy.parseConfig({ topic: 'a/b' })).field).toBe('config.topic');
    expect(fieldOf(() => channels.ntfy.parseConfig({ topic: 'ok', priority: 'min' })).field).toBe('config.priority');
    expect(channels.ntfy.parseConfig({ topic: 'ok' }).server_url).toBe('https://ntfy.sh');
    expect(JSON.stringify(channels.ntfy.redact(config({ token: 'tk_secrettoken123456' })))).not.toContain('tk_secrettoken123456');
  });
});

describe('telegram', () => {
  const token = '123456:AAH-secret_token_value';
  const config = () => channels.telegram.parseConfig({ bot_token: token, chat_id: '-1001234567890', api_url: rx.url });

  it('POSTs sendMessage with HTML text, escaped, and no link preview', async () => {
    rx.reply(200, '{"ok":true,"result":{"message_id":7}}');
    const n = { ...sample, app: { ...sample.app, name: 'Acme <b>&' } };
    expect(await channels.telegram.send(config(), n)).toMatchObject({ ok: true, status: 200 });
    const req = rx.last();
    expect(req.url).toBe(`/bot${token}/sendMessage`);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ chat_id: '-1001234567890', parse_mode: 'HTML', disable_web_page_preview: true });
    expect(body.text).toContain('Acme &lt;b&gt;&amp;');
    expect(body.text).not.toContain('<b>&');
    expect(body.text).toContain('<a href="http://vigil.example.com/monitors/mon_7">Open monitor</a>');
    expectPlainWords(body.text);
  });

  it('treats ok:false as a failure even with HTTP 200', async () => {
    rx.reply(200, '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}');
    const outcome = await channels.telegram.send(config(), sample);
    expect(outcome).toMatchObject({ ok: false, permanent: true });
    expect(outcome.detail).toContain('chat not found');
    rx.reply(200, 'not json');
    expect((await channels.telegram.send(config(), sample)).ok).toBe(false);
  });

  it('validates and redacts the token, never leaking it in a detail', async () => {
    expect(fieldOf(() => channels.telegram.parseConfig({ chat_id: 1 })).field).toBe('config.bot_token');
    expect(fieldOf(() => channels.telegram.parseConfig({ bot_token: 'nope', chat_id: 1 })).field).toBe('config.bot_token');
    expect(fieldOf(() => channels.telegram.parseConfig({ bot_token: token })).field).toBe('config.chat_id');
    expect(fieldOf(() => channels.telegram.parseConfig({ bot_token: token, chat_id: 'my chat' })).field).toBe('config.chat_id');
    expect(channels.telegram.parseConfig({ bot_token: token, chat_id: '@vigil_alerts' }).chat_id).toBe('@vigil_alerts');
    expect(JSON.stringify(channels.telegram.redact(config()))).not.toContain('secret_token_value');
    rx.reply(404, `{"ok":false,"error_code":404,"description":"Not Found: ${token}"}`);
    const outcome = await channels.telegram.send(config(), sample);
    expect(outcome.detail).not.toContain('secret_token_value');
  });
});

// ---------------------------------------------------------------------------------------------
// Email through a real SMTP listener.

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** Splits a MIME message into headers and decoded text parts: enough to check what was sent. */
function mimeParts(raw: string): { headers: string; parts: { type: string; body: string }[] } {
  const [headers = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  const bodies = boundary ? rest.join('\r\n\r\n').split(`--${boundary}`).slice(1, -1) : [];
  const parts = bodies.map((part) => {
    const split = part.search(/\r?\n\r?\n/);
    const head = part.slice(0, split);
    let body = part.slice(split).trim();
    const encoding = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1]?.toLowerCase();
    if (encoding === 'quoted-printable') {
      body = Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        'latin1',
      ).toString('utf8');
    } else if (encoding === 'base64') {
      body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    }
    return { type: /content-type:\s*([^;\r\n]+)/i.exec(head)?.[1]?.trim() ?? '', body };
  });
  return { headers, parts };
}

describe('email', () => {
  const mails: Mail[] = [];
  let rcptError: (Error & { responseCode?: number }) | null = null;
  let smtp: SMTPServer;
  let port = 0;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'mailer' && auth.password === 'p@ss-w0rd!') callback(null, { user: 'mailer' });
        else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo(_address, _session, callback) {
        callback(rcptError ?? undefined);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          mails.push({ from: from ? from.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    port = (smtp.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    closeEmailTransports();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  const email = () => createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'Vigil <alerts@vigil.example.com>' });
  const to = ['ops@example.com', 'oncall@example.com'];

  it('sends text and HTML parts with the subject, recipients and delivery id', async () => {
    rcptError = null;
    const channel = email();
    const outcome = await channel.send(channel.parseConfig({ to }), sample);
    expect(outcome).toMatchObject({ ok: true, status: 250 });
    const mail = mails.at(-1)!;
    expect(mail.from).toBe('alerts@vigil.example.com');
    expect(mail.to).toEqual(to);
    const { headers, parts } = mimeParts(mail.raw);
    expect(headers).toMatch(/^Subject: \[Vigil\] nightly-backup missed its 02:30 run \(Acme production\)$/m);
    expect(headers).toMatch(/^To: ops@example.com, oncall@example.com$/m);
    expect(headers).toMatch(/^Message-ID: <vigil-dlv_0123456789@vigil\.example\.com>$/m);
    expect(headers).toMatch(/^X-Vigil-Delivery: dlv_0123456789$/m);
    expect(headers).toMatch(/^Content-Type: multipart\/alternative/m);
    expect(parts.map((p) => p.type)).toEqual(['text/plain', 'text/html']);
    expectPlainWords(parts[0]!.body);
    expect(parts[1]!.body).toContain('<a href="http://vigil.example.com/monitors/mon_7">Open monitor</a>');
    expect(parts[1]!.body).toContain('did not report a finish by 03:00');
  });

  it('sends the resolved subject and escapes HTML', async () => {
    const channel = email();
    await channel.send(channel.parseConfig({ to: ['ops@example.com'] }), { ...resolved, app: { ...resolved.app, name: 'A<b>' } });
    const { headers, parts } = mimeParts(mails.at(-1)!.raw);
    expect(headers).toMatch(/^Subject: \[Vigil\] Resolved: nightly-backup \(A<b> production\)$/m);
    expect(parts[1]!.body).toContain('A&lt;b&gt;');
    expect(parts[1]!.body).not.toContain('A<b>');
    await channel.send(channel.parseConfig({ to: ['ops@example.com'] }), testEvent);
    const test = mimeParts(mails.at(-1)!.raw);
    expect(test.headers).toMatch(/^Subject: \[Vigil\] Test: nightly-backup \(Acme production\)$/m);
    expect(test.headers).toMatch(/^X-Vigil-Event: test$/m);
    expect(test.parts[0]!.body).toContain('This is a test notification');
  });

  it('classifies SMTP replies: 5xx permanent, 4xx retryable, no server retryable', async () => {
    const channel = email();
    const config = channel.parseConfig({ to: ['ops@example.com'] });
    rcptError = Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
    expect(await channel.send(config, sample)).toMatchObject({ ok: false, status: 550, permanent: true });
    rcptError = Object.assign(new Error('Try again later'), { responseCode: 451 });
    const later = await channel.send(config, sample);
    expect(later).toMatchObject({ ok: false, status: 451 });
    expect(retryable(later)).toBe(true);
    rcptError = null;
    const dead = createEmailChannel({ smtpUrl: 'smtp://127.0.0.1:1', from: 'a@b.c' });
    const refused = await dead.send(config, sample);
    expect(refused).toMatchObject({ ok: false, status: null });
    expect(retryable(refused)).toBe(true);
  });

  it('fails permanently, without leaking the password, on a rejected login', async () => {
    const good = createEmailChannel({ smtpUrl: `smtp://mailer:${encodeURIComponent('p@ss-w0rd!')}@127.0.0.1:${port}`, from: undefined });
    expect(await good.send({ to: ['ops@example.com'] }, sample)).toMatchObject({ ok: true });
    expect(mails.at(-1)!.from).toBe('vigil@127.0.0.1');
    const bad = createEmailChannel({ smtpUrl: `smtp://mailer:wrong-password-42@127.0.0.1:${port}`, from: 'a@b.c' });
    const outcome = await bad.send({ to: ['ops@example.com'] }, sample);
    expect(outcome).toMatchObject({ ok: false, status: 535, permanent: true });
    expect(outcome.detail).not.toContain('wrong-password-42');
    expect(redactSmtpUrl('smtp://mailer:wrong-password-42@127.0.0.1:25')).toBe('smtp://mailer:****@127.0.0.1:25');
  });

  it('fails permanently when SMTP is not configured', async () => {
    const channel = createEmailChannel({ smtpUrl: undefined, from: undefined });
    expect(await channel.send(channel.parseConfig({ to }), sample)).toEqual({
      ok: false,
      status: null,
      detail: 'email is not configured: set VIGIL_SMTP_URL',
      permanent: true,
    });
  });

  it('validates recipients and names the field', () => {
    const channel = email();
    expect(fieldOf(() => channel.parseConfig({}))).toMatchObject({ code: 'missing_field', field: 'config.to' });
    expect(fieldOf(() => channel.parseConfig({ to: [] })).message).toBe('config.to: must be a list of 1-20 email addresses');
    expect(fieldOf(() => channel.parseConfig({ to: 'ops@example.com' })).field).toBe('config.to');
    expect(fieldOf(() => channel.parseConfig({ to: Array.from({ length: 21 }, (_, i) => `u${i}@example.com`) })).field).toBe('config.to');
    expect(fieldOf(() => channel.parseConfig({ to: ['ops@example.com', 'not-an-address'] }))).toMatchObject({
      field: 'config.to.1',
      message: 'config.to.1: must be an email address',
    });
    expect(channel.parseConfig({ to: [' ops@example.com ', 'OPS@example.com'] })).toEqual({ to: ['ops@example.com'] });
    expect(channel.redact({ to })).toEqual({ to });
  });
});
