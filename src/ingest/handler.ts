import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { VigilError } from '../errors.js';
import type { Catalog } from '../monitors/catalog.js';
import type { NewCheckInEvent, NewIngestError } from '../store/index.js';
import { parseCronQuery, parseHeartbeatQuery, parseNdjson, type ParseResult, type Rejection } from './parse.js';
import type { IngestWriter } from './writer.js';

export interface IngestDependencies {
  readonly catalog: Catalog;
  readonly writer: IngestWriter;
  readonly clock: Clock;
  /** Milliseconds a client timestamp may be off the receive time before the receive time replaces it. */
  readonly maxClockSkew: number;
  /** Largest request body in bytes (413 above it). */
  readonly bodyLimit: number;
  /** Called after check-ins were committed (wakes the evaluator). */
  readonly onCommitted?: () => void;
  /** Called once per request with what happened, for metrics. */
  readonly observe?: (accepted: number, rejected: number) => void;
}

const Endpoints = {
  '/check_ins/cron': 'cron',
  '/check_ins/heartbeats': 'heartbeat',
  '/check_ins/json': 'ndjson',
  '/heartbeats/json': 'legacy',
} as const;
type Endpoint = (typeof Endpoints)[keyof typeof Endpoints];

// A client that streams far past the limit is cut off instead of drained forever.
const DRAIN_FACTOR = 8;

/**
 * The AppSignal-compatible ingest endpoints on bare `node:http`: they are the hot path,
 * so they skip the framework. Returns false for any other path, which the caller hands
 * to the REST application.
 */
export function createIngestHandler(deps: IngestDependencies): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    // `//check_ins/json` (a doubled slash from a base URL ending in `/`) is accepted.
    const raw = queryAt === -1 ? url : url.slice(0, queryAt);
    const path = Object.hasOwn(Endpoints, raw) ? raw : raw.replace(/\/{2,}/g, '/').replace(/\/$/, '');
    const endpoint = (Endpoints as Record<string, Endpoint | undefined>)[path];
    if (endpoint === undefined) return false;
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      refuse(req, res, deps.bodyLimit, new VigilError('method_not_allowed', `${path} takes POST`));
      return true;
    }
    const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
    handle(deps, endpoint, query, req, res).catch((error: unknown) => {
      sendError(res, error instanceof VigilError ? error : new VigilError('store_unavailable', 'could not store the check-ins; retry'));
    });
    return true;
  };
}

async function handle(
  deps: IngestDependencies,
  endpoint: Endpoint,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const key = query.get('api_key');
  if (!key) return refuse(req, res, deps.bodyLimit, new VigilError('missing_api_key', 'api_key: the push API key is required in the query string'));
  const appId = deps.catalog.appForKey(key);
  if (appId === undefined) return refuse(req, res, deps.bodyLimit, new VigilError('invalid_api_key', 'api_key: unknown push API key'));
  const now = deps.clock.now();
  const body = await readBody(req, deps.bodyLimit);
  if (body === null) {
    const error = new VigilError('body_too_large', `body: larger than ${deps.bodyLimit} bytes`);
    await deps.writer.write([], [ingestError(appId, { line: 0, code: error.code, message: error.message, identifier: null }, now)]);
    return sendAndClose(req, res, error);
  }

  let parsed: ParseResult;
  if (endpoint === 'cron') parsed = parseCronQuery(query, body);
  else if (endpoint === 'heartbeat') parsed = parseHeartbeatQuery(query);
  else {
    parsed = parseNdjson(body.toString('utf8'), endpoint === 'legacy');
    if (parsed.checkIns.length === 0 && parsed.rejections.length === 0) {
      const error = new VigilError('empty_body', 'body: expected one check-in per line (NDJSON), got an empty body');
      await deps.writer.write([], [ingestError(appId, { line: 0, code: error.code, message: error.message, identifier: null }, now)]);
      return sendError(res, error);
    }
  }

  const hostname = query.get('hostname') || null;
  const received = Math.floor(now / 1000);
  const events: NewCheckInEvent[] = [];
  const unroutable: Rejection[] = [];
  for (const c of parsed.checkIns) {
    const monitor = deps.catalog.monitor(appId, c.identifier);
    if (!monitor) {
      unroutable.push(reject(c.line, 'unknown_identifier', `no monitor "${c.identifier}" in this app`, c.identifier));
      continue;
    }
    const type = c.checkInType ?? monitor.type;
    const cron = type === 'cron';
    if (type !== monitor.type) {
      unroutable.push(
        reject(c.line, 'check_in_type_mismatch', `"${c.identifier}" is a ${monitor.type} monitor, got a ${type} check-in`, c.identifier),
      );
      continue;
    }
    // A clock far off (or a timestamp in the wrong unit) would put the event in the wrong
    // window: keep what the client said, judge it by when it arrived.
    const skewed = c.timestamp !== undefined && Math.abs(c.timestamp * 1000 - now) > deps.maxClockSkew;
    events.push({
      monitor_id: monitor.id,
      check_in_type: type,
      // A heartbeat has no kind, digest, exit code or output, whatever the line carried.
      kind: cron ? (c.kind ?? 'finish') : null,
      digest: cron ? c.digest : null,
      timestamp: c.timestamp === undefined || skewed ? received : c.timestamp,
      client_timestamp: skewed ? (c.timestamp ?? null) : null,
      received_at: now,
      hostname,
      exit_code: cron ? c.exitCode : null,
      output: cron ? c.output : null,
    });
  }
  const rejected = [...parsed.rejections, ...unroutable].sort((a, b) => a.line - b.line);
  await deps.writer.write(
    events,
    rejected.map((r) => ingestError(appId, r, now)),
  );
  deps.observe?.(events.length, rejected.length);
  if (events.length > 0) deps.onCommitted?.();

  // 400 only when nothing could be used at all; an unknown identifier is the user's
  // configuration, not a malformed request, and AppSignal clients never retry anyway.
  if (events.length === 0 && unroutable.length === 0 && parsed.rejections.length > 0) {
    const first = parsed.rejections[0]!;
    const more = parsed.rejections.length > 1 ? ` (${parsed.rejections.length - 1} more lines rejected)` : '';
    const code = first.code === 'invalid_json' || first.code === 'missing_field' ? first.code : 'invalid_field';
    return sendError(res, new VigilError(code, first.message + more));
  }
  send(res, 200, {
    accepted: events.length,
    rejected: rejected.map((r) => ({ line: r.line, code: r.code, message: r.message })),
  });
}

function reject(line: number, code: string, message: string, identifier: string): Rejection {
  return { line, code, message: `line ${line}: ${message}`, identifier };
}

function ingestError(appId: number, r: Rejection, now: number): NewIngestError {
  return { app_id: appId, identifier: r.identifier, code: r.code, message: r.message, line: r.line || null, received_at: now };
}

/**
 * Reads the body; null when it is over `limit`. A declared oversize body is not read at
 * all; an undeclared (chunked) one is drained up to a bound so the 413 can be read.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit * DRAIN_FACTOR) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit * DRAIN_FACTOR) {
        req.pause();
        resolve(null);
      }
    });
    req.on('end', () => resolve(size > limit ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Answers a request refused before its body is read (no key, unknown key, wrong method): a
 * small declared body is drained so the connection can be reused; any other body (too big,
 * or of unknown size) is never read — the connection closes after the answer — so nobody
 * without a key can make Vigil read a body of any size.
 */
function refuse(req: IncomingMessage, res: ServerResponse, limit: number, error: VigilError): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (req.headers['transfer-encoding'] === undefined && Number.isFinite(declared) && declared <= limit) {
    req.resume();
    return sendError(res, error);
  }
  sendAndClose(req, res, error);
}

/** Sends the error and closes the connection once it is out: the rest of the body is never read. */
function sendAndClose(req: IncomingMessage, res: ServerResponse, error: VigilError): void {
  res.setHeader('connection', 'close');
  // Destroying at once could reset the socket before the client reads the answer.
  if (!req.complete) res.on('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
  sendError(res, error);
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, error: VigilError): void {
  send(res, error.status, { error: { code: error.code, message: error.message } });
}
