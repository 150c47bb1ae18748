/**
 * The real `@appsignal/nodejs` package (3.9.1) as a Vigil client.
 *
 * How it sends: `checkIn.cron`, `checkIn.Cron#start/finish` and `checkIn.heartbeat` hand
 * events to a module-level scheduler, which debounces them (100 ms after the first,
 * then 10 s between requests), drops redundant events, and POSTs one NDJSON batch to
 * `${loggingEndpoint}/check_ins/json?api_key=…&name=…&environment=…&hostname=…` with
 * `http.request`. `client.stop()` flushes what is queued and awaits the request.
 *
 * Its native agent cannot be installed here (installed with --ignore-scripts), so the
 * client refuses to start ("extension failed to load") and `isActive` stays false, which
 * makes the scheduler drop every event. None of the check-in path uses the agent: the
 * tests shadow the prototype's `isActive` getter on the instance. Everything else (config,
 * digests, batching, deduplication, the HTTP request) is the package's own code.
 */
import { Appsignal, checkIn } from '@appsignal/nodejs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startVigil, type Running } from './helpers.js';

const require = createRequire(import.meta.url);

/** The package's internals that its own test suite uses (stripped from its .d.ts). */
interface SchedulerModule {
  scheduler: { events: unknown[]; waker: unknown; pendingTransmissions: Set<Promise<void>>; isShuttingDown: boolean };
  resetScheduler(): Promise<void>;
  debounceTime: { set(fn: (lastTransmission?: number) => number): void; reset(): void };
}
const internals = require('@appsignal/nodejs/dist/check_in/scheduler.js') as SchedulerModule;

const HEX_DIGEST = /^[0-9a-f]{16}$/;

interface WireRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

interface Logged {
  level: 'error' | 'warn' | 'info' | 'debug' | 'trace';
  message: string;
}

describe('@appsignal/nodejs 3.9.1 as a client of Vigil', () => {
  let vigil: Running;
  let app: { id: string; key: string };
  const monitors = new Map<string, string>();
  const wire: WireRequest[] = [];
  const envBefore = { ...process.env };

  beforeAll(async () => {
    vigil = await startVigil();
    app = await vigil.createApp('Acme', 'production');
    // Vigil's own request listener reads the body synchronously on 'request'; this one,
    // added after it, sees the same chunks: exactly what reached the server.
    vigil.vigil.server.on('request', (req: IncomingMessage) => {
      if (!req.url?.includes('check_ins')) return;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => wire.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) }));
    });
    // A batch is only sent when the test says so (`client.stop()`), never on a timer
    // racing the test; one test below puts the real debounce back.
    internals.debounceTime.set(() => 60_000);
  });

  afterEach(async () => {
    // Whatever a test left queued is dropped with the scheduler it was queued on.
    await internals.resetScheduler();
    wire.length = 0;
  });

  afterAll(async () => {
    internals.debounceTime.reset();
    delete (globalThis as { __APPSIGNAL__?: unknown }).__APPSIGNAL__;
    // The client's Configuration writes _APPSIGNAL_* variables for its agent.
    for (const name of Object.keys(process.env)) if (!(name in envBefore)) delete process.env[name];
    Object.assign(process.env, envBefore);
    await vigil?.stop();
  });

  async function monitor(identifier: string, type: 'cron' | 'heartbeat'): Promise<string> {
    const body = type === 'cron' ? { identifier, type, schedule: '* * * * *' } : { identifier, type, max_duration: 300 };
    const { id } = await vigil.createMonitor(app.id, body);
    monitors.set(identifier, id);
    return id;
  }

  /** A monitor's events, oldest first. */
  async function events(identifier: string): Promise<any[]> {
    const res = await vigil.api('GET', `/monitors/${monitors.get(identifier)}/events`);
    expect(res.status).toBe(200);
    return [...res.body.data].reverse();
  }

  async function ingestErrors(): Promise<any[]> {
    const res = await vigil.api('GET', `/apps/${app.id}/ingest-errors`);
    expect(res.status).toBe(200);
    return res.body.data;
  }

  /**
   * A fresh client the way an application builds one, made active by hand. Returns what
   * it printed while starting and a record of its internal log.
   */
  async function startClient(options: Record<string, unknown> = {}) {
    await internals.resetScheduler();
    const printed: string[] = [];
    const print = (...args: unknown[]) => printed.push(args.map(String).join(' '));
    const spies = (['error', 'warn', 'info', 'log'] as const).map((m) => vi.spyOn(console, m).mockImplementation(print));
    let client: Appsignal;
    try {
      client = new Appsignal({
        active: true,
        name: 'Acme',
        environment: 'production',
        pushApiKey: app.key,
        loggingEndpoint: vigil.url,
        hostname: 'worker-7',
        log: 'stdout',
        logLevel: 'error',
        enableMinutelyProbes: false,
        initializeOpentelemetrySdk: false,
        ...options,
      });
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(client.isActive).toBe(false);
    expect(printed).toContain('AppSignal not starting: extension failed to load');
    Object.defineProperty(client, 'isActive', { get: () => true, configurable: true });

    const logged: Logged[] = [];
    const record = (level: Logged['level']) => (message: string) => logged.push({ level, message });
    Object.defineProperty(client, 'internalLogger', {
      value: { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug'), trace: record('trace') },
    });

    /** Flushes the queue and waits for the request's answer, as an application's shutdown does. */
    const stop = async () => {
      const quiet = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        await client.stop();
      } finally {
        quiet.mockRestore();
      }
      expect(internals.scheduler.waker).toBeUndefined();
      expect(internals.scheduler.pendingTransmissions.size).toBe(0);
    };
    return { client, logged, stop };
  }

  function ndjson(request: WireRequest): any[] {
    return request.body
      .toString('utf8')
      .split('\n')
      .map((line) => JSON.parse(line));
  }

  it('loads through ESM the same CommonJS instance that the internals above come from', () => {
    const cjs = require('@appsignal/nodejs') as typeof import('@appsignal/nodejs');
    expect(cjs.checkIn).toBe(checkIn);
    expect(cjs.Appsignal).toBe(Appsignal);
  });

  it('drops every check-in while the client is inactive (why the tests force isActive)', async () => {
    await monitor('inactive-job', 'cron');
    await internals.resetScheduler();
    const spies = (['error', 'warn', 'info', 'log'] as const).map((m) => vi.spyOn(console, m).mockImplementation(() => undefined));
    try {
      const client = new Appsignal({ active: true, name: 'Acme', pushApiKey: app.key, loggingEndpoint: vigil.url, log: 'stdout' });
      checkIn.cron('inactive-job');
      await client.stop();
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(wire).toEqual([]);
    expect(await events('inactive-job')).toEqual([]);
  });

  it('sends every kind of check-in in one NDJSON request, and Vigil stores them as sent', async () => {
    await monitor('sdk-cron', 'cron');
    await monitor('sdk-manual', 'cron');
    await monitor('sdk-heartbeat', 'heartbeat');
    await monitor('sdk-finish-only', 'cron');
    const { logged, stop } = await startClient();
    const before = Math.floor(Date.now() / 1000);

    expect(checkIn.cron('sdk-cron', () => 42)).toBe(42);
    const manual = new checkIn.Cron('sdk-manual');
    manual.start();
    manual.finish();
    checkIn.heartbeat('sdk-heartbeat');
    checkIn.cron('sdk-finish-only');
    expect(wire).toEqual([]); // queued, not sent yet
    await stop();
    const after = Math.floor(Date.now() / 1000);

    // On the wire: one request, the fixture's shape (node-3.9.1.http).
    expect(wire).toHaveLength(1);
    const [request] = wire;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe(`/check_ins/json?api_key=${app.key}&name=Acme&environment=production&hostname=worker-7`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(Number(request!.headers['content-length'])).toBe(request!.body.length);
    expect(request!.headers['transfer-encoding']).toBeUndefined();
    expect(request!.body.toString('utf8').endsWith('\n')).toBe(false); // no trailing newline
    const lines = ndjson(request!);
    expect(lines.map((l) => Object.keys(l))).toEqual([
      ['identifier', 'digest', 'kind', 'timestamp', 'check_in_type'],
      ['identifier', 'digest', 'kind', 'timestamp', 'check_in_type'],
      ['identifier', 'digest', 'kind', 'timestamp', 'check_in_type'],
      ['identifier', 'digest', 'kind', 'timestamp', 'check_in_type'],
      ['identifier', 'timestamp', 'check_in_type'], // a heartbeat has no digest and no kind
      ['identifier', 'digest', 'kind', 'timestamp', 'check_in_type'],
    ]);
    for (const line of lines) {
      expect(Number.isInteger(line.timestamp)).toBe(true); // epoch seconds
      expect(line.timestamp).toBeGreaterThanOrEqual(before);
      expect(line.timestamp).toBeLessThanOrEqual(after);
    }
    expect(manual.digest).toMatch(HEX_DIGEST);
    expect(lines.filter((l) => l.identifier === 'sdk-manual').map((l) => l.digest)).toEqual([manual.digest, manual.digest]);

    // The client was told it all went through.
    expect(logged.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    expect(logged).toContainEqual({ level: 'trace', message: 'Transmitted 6 check-in events' });

    // In Vigil.
    const cron = await events('sdk-cron');
    expect(cron.map((e) => [e.check_in_type, e.kind, e.hostname])).toEqual([
      ['cron', 'start', 'worker-7'],
      ['cron', 'finish', 'worker-7'],
    ]);
    expect(cron[0].digest).toMatch(HEX_DIGEST);
    expect(cron[1].digest).toBe(cron[0].digest);
    expect(cron[0].digest).toBe(lines[0].digest);
    expect(cron[0].timestamp).toBe(new Date(lines[0].timestamp * 1000).toISOString());

    expect((await events('sdk-manual')).map((e) => [e.kind, e.digest])).toEqual([
      ['start', manual.digest],
      ['finish', manual.digest],
    ]);
    expect(manual.digest).not.toBe(cron[0].digest);

    expect((await events('sdk-heartbeat')).map((e) => [e.check_in_type, e.kind, e.digest, e.hostname])).toEqual([
      ['heartbeat', null, null, 'worker-7'],
    ]);

    const finishOnly = await events('sdk-finish-only');
    expect(finishOnly.map((e) => [e.check_in_type, e.kind, e.hostname])).toEqual([['cron', 'finish', 'worker-7']]);
    expect(finishOnly[0].digest).toMatch(HEX_DIGEST);
    expect(await ingestErrors()).toEqual([]);
  });

  it('checkIn.cron with an async job: finish once it resolves, none when it rejects or throws', async () => {
    await monitor('async-ok', 'cron');
    await monitor('async-fails', 'cron');
    await monitor('sync-throws', 'cron');
    const { stop } = await startClient();

    let release!: (value: string) => void;
    const ok = checkIn.cron('async-ok', () => new Promise<string>((resolve) => (release = resolve)));
    const failing = checkIn.cron('async-fails', async () => {
      throw new Error('disk full');
    });
    expect(() =>
      checkIn.cron('sync-throws', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(failing).rejects.toThrow('disk full');
    release('done');
    await expect(ok).resolves.toBe('done');
    await stop();

    const ok2 = await events('async-ok');
    expect(ok2.map((e) => e.kind)).toEqual(['start', 'finish']);
    expect(ok2[1].digest).toBe(ok2[0].digest);
    // A failed run leaves a start without a finish: AppSignal (and Vigil) then report it missed.
    expect((await events('async-fails')).map((e) => e.kind)).toEqual(['start']);
    expect((await events('sync-throws')).map((e) => e.kind)).toEqual(['start']);
  });

  it('deduplicates before sending: one start/finish pair per identifier and one heartbeat per batch', async () => {
    await monitor('dedup-cron', 'cron');
    await monitor('dedup-beat', 'heartbeat');
    const { stop } = await startClient();

    const first = new checkIn.Cron('dedup-cron');
    first.start();
    first.finish();
    const second = new checkIn.Cron('dedup-cron');
    second.start();
    second.finish();
    const unfinished = new checkIn.Cron('dedup-cron');
    unfinished.start();
    checkIn.heartbeat('dedup-beat');
    checkIn.heartbeat('dedup-beat');
    checkIn.heartbeat('dedup-beat');
    await stop();

    expect(wire).toHaveLength(1);
    expect(ndjson(wire[0]!).map((l) => [l.identifier, l.kind, l.digest])).toEqual([
      ['dedup-cron', 'start', second.digest],
      ['dedup-cron', 'finish', second.digest],
      ['dedup-cron', 'start', unfinished.digest],
      ['dedup-beat', undefined, undefined],
    ]);
    expect((await events('dedup-cron')).map((e) => [e.kind, e.digest])).toEqual([
      ['start', second.digest],
      ['finish', second.digest],
      ['start', unfinished.digest],
    ]);
    expect(await events('dedup-beat')).toHaveLength(1);
  });

  it('sends on its own 100 ms after the first check-in (the real debounce)', async () => {
    await monitor('debounced', 'heartbeat');
    internals.debounceTime.reset();
    try {
      const { logged, stop } = await startClient();
      checkIn.heartbeat('debounced');
      await vi.waitFor(
        () => {
          expect(logged).toContainEqual({ level: 'trace', message: 'Transmitted heartbeat check-in `debounced` event' });
        },
        { timeout: 5_000, interval: 20 },
      );
      expect(wire).toHaveLength(1);
      expect((await events('debounced')).map((e) => e.check_in_type)).toEqual(['heartbeat']);
      await stop(); // nothing left to send
      expect(wire).toHaveLength(1);
    } finally {
      internals.debounceTime.set(() => 60_000);
    }
  });

  it('sends hostname= (empty) when none is configured; Vigil stores no hostname', async () => {
    await monitor('no-hostname', 'cron');
    const { stop } = await startClient({ hostname: undefined });
    checkIn.cron('no-hostname');
    await stop();
    expect(wire[0]!.url).toBe(`/check_ins/json?api_key=${app.key}&name=Acme&environment=production&hostname=`);
    expect((await events('no-hostname')).map((e) => [e.kind, e.hostname])).toEqual([['finish', null]]);
  });

  it('posts to //check_ins/json when loggingEndpoint ends in a slash, and Vigil accepts it', async () => {
    await monitor('slash-endpoint', 'cron');
    const { logged, stop } = await startClient({ loggingEndpoint: `${vigil.url}/` });
    checkIn.cron('slash-endpoint', () => undefined);
    await stop();
    expect(wire[0]!.url.startsWith('//check_ins/json?')).toBe(true);
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
    expect((await events('slash-endpoint')).map((e) => e.kind)).toEqual(['start', 'finish']);
  });

  it('an unknown identifier is a 200 with a rejection: the client counts the batch as sent', async () => {
    await monitor('known-job', 'cron');
    const { logged, stop } = await startClient();
    checkIn.cron('never-created');
    checkIn.cron('known-job');
    await stop();
    expect(logged).toContainEqual({ level: 'trace', message: 'Transmitted 2 check-in events' });
    expect((await events('known-job')).map((e) => e.kind)).toEqual(['finish']);
    expect(await ingestErrors()).toContainEqual(
      expect.objectContaining({ identifier: 'never-created', code: 'unknown_identifier', line: 1 }),
    );
  });

  it('non-ASCII identifiers: the client declares Content-Length in UTF-16 units and the batch arrives cut short', async () => {
    await monitor('rapport-café', 'cron');
    await monitor('ascii-after', 'cron');
    const { logged, stop } = await startClient();
    checkIn.cron('rapport-café');
    checkIn.cron('ascii-after');
    await stop();

    // The body that was written has one byte more ("é" is two) than the declared length,
    // so the server reads the batch minus its last byte (the final "}") ...
    const [request] = wire;
    expect(Number(request!.headers['content-length'])).toBe(request!.body.length);
    const text = request!.body.toString('utf8');
    expect(text.endsWith('"check_in_type":"cron"')).toBe(true);
    // ... and the stray "}" then reaches Node's HTTP parser as the start of a next request.
    // Node would answer that with its own 400 ahead of Vigil's 200; Vigil holds the
    // connection until its own answer is out, so the client reads the 200.
    expect(logged).toContainEqual({ level: 'trace', message: 'Transmitted 2 check-in events' });
    expect(await ingestErrors()).toContainEqual(expect.objectContaining({ code: 'invalid_json', line: 2 }));
    expect((await events('rapport-café')).map((e) => e.kind)).toEqual(['finish']);
    expect(await events('ascii-after')).toEqual([]);
  });
});
