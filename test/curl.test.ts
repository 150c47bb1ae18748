/**
 * AppSignal's documented curl commands, run with the real `curl` binary against a real
 * Vigil. Each command is kept as the docs print it (quotes, `\` line continuations and
 * all); only the host `https://appsignal-endpoint.net` and the docs' placeholders
 * (YOUR-APP-LEVEL-API-KEY, YOUR-CHECK-IN-IDENTIFIER, …) are replaced. Output flags are
 * appended so that a failure shows what Vigil answered.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Running } from './helpers.js';

const DOCS_HOST = 'https://appsignal-endpoint.net';

/**
 * Splits a command the way a POSIX shell would for the subset the docs use: '…', "…"
 * (no expansions inside), and a backslash-newline continuation. Anything else is refused
 * so that a command the tokenizer does not understand cannot pass by accident.
 */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === '\\' && command[i + 1] === '\n') {
      i += 1;
    } else if (c === ' ' || c === '\n' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      const end = command.indexOf(c, i + 1);
      if (end === -1) throw new Error(`unbalanced ${c} in ${command}`);
      const quoted = command.slice(i + 1, end);
      if (c === '"' && /[$`\\]/.test(quoted)) throw new Error(`expansion inside "…" is not supported: ${quoted}`);
      word = (word ?? '') + quoted;
      i = end;
    } else if (/[$`;&|<>()*?\\]/.test(c)) {
      throw new Error(`shell syntax ${c} is not supported: ${command}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

interface CurlResult {
  exitCode: number;
  httpStatus: number;
  /** The response headers, when the command dumps them (the docs' own `-D -`). */
  headers: string | null;
  body: any;
  stderr: string;
}

/**
 * Runs a documented command with `curl` itself. `-sS` hides the progress meter but keeps
 * errors, `--fail-with-body` makes an HTTP error a non-zero exit, and `-w` appends the
 * status on a line of its own.
 */
function runDocumented(documented: string, url: string, placeholders: Record<string, string>): Promise<CurlResult> {
  expect(documented).toContain(DOCS_HOST);
  let command = documented.replaceAll(DOCS_HOST, url);
  for (const [placeholder, value] of Object.entries(placeholders)) {
    expect(command).toContain(placeholder);
    command = command.replaceAll(placeholder, value);
  }
  const [program, ...args] = shellWords(command);
  expect(program).toBe('curl');
  const dumpsHeaders = args.some((arg, i) => arg === '-D' && args[i + 1] === '-');
  args.push('-sS', '--fail-with-body', '--max-time', '10', '-w', '\n%{http_code}');
  return new Promise((resolve, reject) => {
    execFile('curl', args, { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      const exitCode = error ? (error.code as number) : 0;
      const lastNewline = stdout.lastIndexOf('\n');
      const httpStatus = Number(stdout.slice(lastNewline + 1));
      const response = stdout.slice(0, lastNewline);
      const split = dumpsHeaders ? response.indexOf('\r\n\r\n') : -1;
      const headers = dumpsHeaders ? response.slice(0, split) : null;
      const text = dumpsHeaders ? response.slice(split + 4) : response;
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text for the failure message
      }
      resolve({ exitCode, httpStatus, headers, body, stderr });
    });
  });
}

// docs.appsignal.com/check-ins/configuration/api.html — "Finish cron check-in".
const FINISH = `curl -D - -X POST -G 'https://appsignal-endpoint.net/check_ins/cron' \\
  -d 'api_key=YOUR-APP-LEVEL-API-KEY' \\
  -d 'identifier=YOUR-CHECK-IN-IDENTIFIER'`;

// Same page — "Start cron check-in (optional)": the finish command plus `kind=start`.
const START = `curl -D - -X POST -G 'https://appsignal-endpoint.net/check_ins/cron' \\
  -d 'api_key=YOUR-APP-LEVEL-API-KEY' \\
  -d 'identifier=YOUR-CHECK-IN-IDENTIFIER' \\
  -d 'kind=start'`;

// Same page — "Sending heartbeat check-in events".
const HEARTBEAT = `curl -D - -X POST -G 'https://appsignal-endpoint.net/check_ins/heartbeats' \\
  -d 'api_key=YOUR-APP-LEVEL-API-KEY' \\
  -d 'identifier=YOUR-CHECK-IN-IDENTIFIER'`;

// The one-URL form of the earlier "Send check-ins using URL parameters" section (fields
// identifier, kind, digest, timestamp): a finish, and a start/finish pair tied by a digest.
const URL_FINISH = `curl -X POST "https://appsignal-endpoint.net/check_ins/cron?identifier=nightly-backup&api_key=YOUR-APP-LEVEL-API-KEY&kind=finish"`;
const URL_START = `curl -X POST "https://appsignal-endpoint.net/check_ins/cron?identifier=nightly-backup&api_key=YOUR-APP-LEVEL-API-KEY&kind=start&digest=YOUR-DIGEST"`;
const URL_FINISH_DIGEST = `curl -X POST "https://appsignal-endpoint.net/check_ins/cron?identifier=nightly-backup&api_key=YOUR-APP-LEVEL-API-KEY&kind=finish&digest=YOUR-DIGEST"`;
const URL_HEARTBEAT = `curl -X POST "https://appsignal-endpoint.net/check_ins/heartbeats?identifier=YOUR-CHECK-IN-IDENTIFIER&api_key=YOUR-APP-LEVEL-API-KEY"`;

describe('AppSignal curl commands against Vigil', () => {
  let vigil: Running;
  let key: string;
  let appId: string;

  beforeAll(async () => {
    vigil = await startVigil();
    const app = await vigil.createApp('curl-docs', 'production');
    key = app.key;
    appId = app.id;
  });

  afterAll(async () => {
    await vigil?.stop();
  });

  async function monitor(identifier: string, type: 'cron' | 'heartbeat'): Promise<string> {
    const body = type === 'cron' ? { identifier, type, schedule: '* * * * *' } : { identifier, type, max_duration: 300 };
    return (await vigil.createMonitor(appId, body)).id;
  }

  /** The monitor's events, oldest first. */
  async function events(monitorId: string): Promise<any[]> {
    const res = await vigil.api('GET', `/monitors/${monitorId}/events`);
    expect(res.status).toBe(200);
    return [...res.body.data].reverse();
  }

  function expectAccepted(result: CurlResult, accepted = 1): void {
    expect(result, JSON.stringify(result)).toMatchObject({ exitCode: 0, httpStatus: 200, body: { accepted, rejected: [] } });
    if (result.headers !== null) {
      // The docs' `-D -` prints the status line and headers before the body.
      expect(result.headers).toMatch(/^HTTP\/1\.1 200 /);
      expect(result.headers.toLowerCase()).toContain('content-type: application/json');
    }
  }

  it('tokenizes the documented commands as a shell would', () => {
    expect(shellWords(START)).toEqual([
      'curl',
      '-D',
      '-',
      '-X',
      'POST',
      '-G',
      'https://appsignal-endpoint.net/check_ins/cron',
      '-d',
      'api_key=YOUR-APP-LEVEL-API-KEY',
      '-d',
      'identifier=YOUR-CHECK-IN-IDENTIFIER',
      '-d',
      'kind=start',
    ]);
    expect(shellWords(URL_START)).toEqual([
      'curl',
      '-X',
      'POST',
      'https://appsignal-endpoint.net/check_ins/cron?identifier=nightly-backup&api_key=YOUR-APP-LEVEL-API-KEY&kind=start&digest=YOUR-DIGEST',
    ]);
  });

  it('records a finish cron check-in (POST -G: parameters in the query, no body)', async () => {
    const id = await monitor('send-invoices', 'cron');
    const before = Date.now();
    const result = await runDocumented(FINISH, vigil.url, {
      'YOUR-APP-LEVEL-API-KEY': key,
      'YOUR-CHECK-IN-IDENTIFIER': 'send-invoices',
    });
    expectAccepted(result);
    const [event, ...rest] = await events(id);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ check_in_type: 'cron', kind: 'finish', digest: null, hostname: null });
    // No timestamp sent: the arrival second is used.
    const timestamp = Date.parse(event.timestamp);
    expect(timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('records a start then a finish cron check-in', async () => {
    const id = await monitor('import-orders', 'cron');
    const placeholders = { 'YOUR-APP-LEVEL-API-KEY': key, 'YOUR-CHECK-IN-IDENTIFIER': 'import-orders' };
    expectAccepted(await runDocumented(START, vigil.url, placeholders));
    expectAccepted(await runDocumented(FINISH, vigil.url, placeholders));
    const recorded = await events(id);
    expect(recorded.map((e) => [e.check_in_type, e.kind, e.digest])).toEqual([
      ['cron', 'start', null],
      ['cron', 'finish', null],
    ]);
  });

  it('records a heartbeat check-in', async () => {
    const id = await monitor('queue-worker', 'heartbeat');
    expectAccepted(
      await runDocumented(HEARTBEAT, vigil.url, { 'YOUR-APP-LEVEL-API-KEY': key, 'YOUR-CHECK-IN-IDENTIFIER': 'queue-worker' }),
    );
    const recorded = await events(id);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ check_in_type: 'heartbeat', kind: null, digest: null, hostname: null });
  });

  it('records the one-URL forms: finish, and start/finish sharing a digest', async () => {
    const id = await monitor('nightly-backup', 'cron');
    const placeholders = { 'YOUR-APP-LEVEL-API-KEY': key, 'YOUR-DIGEST': '3e1b9c0d7a5f4e21' };
    expectAccepted(await runDocumented(URL_FINISH, vigil.url, { 'YOUR-APP-LEVEL-API-KEY': key }));
    expectAccepted(await runDocumented(URL_START, vigil.url, placeholders));
    expectAccepted(await runDocumented(URL_FINISH_DIGEST, vigil.url, placeholders));
    const recorded = await events(id);
    expect(recorded.map((e) => [e.check_in_type, e.kind, e.digest])).toEqual([
      ['cron', 'finish', null],
      ['cron', 'start', '3e1b9c0d7a5f4e21'],
      ['cron', 'finish', '3e1b9c0d7a5f4e21'],
    ]);
  });

  it('records the one-URL heartbeat form', async () => {
    const id = await monitor('mailer-daemon', 'heartbeat');
    expectAccepted(
      await runDocumented(URL_HEARTBEAT, vigil.url, { 'YOUR-APP-LEVEL-API-KEY': key, 'YOUR-CHECK-IN-IDENTIFIER': 'mailer-daemon' }),
    );
    expect((await events(id)).map((e) => [e.check_in_type, e.kind])).toEqual([['heartbeat', null]]);
  });

  it('accepts an NDJSON batch at //check_ins/json (a base URL ending in a slash)', async () => {
    const cron = await monitor('report-cron', 'cron');
    const beat = await monitor('report-beat', 'heartbeat');
    // Recent timestamps: ones more than 5 minutes off are replaced by the receive time.
    const t = Math.floor(Date.now() / 1000) - 120;
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const body = [
      `{"identifier":"report-cron","digest":"a1b2c3d4e5f60718","kind":"start","timestamp":${t},"check_in_type":"cron"}`,
      `{"identifier":"report-cron","digest":"a1b2c3d4e5f60718","kind":"finish","timestamp":${t + 60},"check_in_type":"cron"}`,
      `{"identifier":"report-beat","timestamp":${t + 61},"check_in_type":"heartbeat"}`,
    ].join('\n');
    // Not a documented command: what a client with `endpoint = "https://…/"` sends.
    const documented =
      `curl -X POST 'https://appsignal-endpoint.net//check_ins/json?api_key=YOUR-APP-LEVEL-API-KEY&name=Acme&environment=production&hostname=web-1'` +
      ` -H 'Content-Type: application/json' --data-binary 'BODY'`;
    const result = await runDocumented(documented, vigil.url, { 'YOUR-APP-LEVEL-API-KEY': key, BODY: body });
    expectAccepted(result, 3);
    expect((await events(cron)).map((e) => [e.kind, e.digest, e.timestamp, e.hostname])).toEqual([
      ['start', 'a1b2c3d4e5f60718', iso(t), 'web-1'],
      ['finish', 'a1b2c3d4e5f60718', iso(t + 60), 'web-1'],
    ]);
    expect((await events(beat)).map((e) => [e.check_in_type, e.kind, e.timestamp])).toEqual([
      ['heartbeat', null, iso(t + 61)],
    ]);
  });

  it('exits non-zero with the error body for an unknown key', async () => {
    const result = await runDocumented(FINISH, vigil.url, {
      'YOUR-APP-LEVEL-API-KEY': 'not-a-key',
      'YOUR-CHECK-IN-IDENTIFIER': 'send-invoices',
    });
    expect(result.exitCode).toBe(22);
    expect(result.httpStatus).toBeGreaterThanOrEqual(400);
    expect(result.body).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});
