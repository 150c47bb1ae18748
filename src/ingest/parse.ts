/**
 * Pure parsing of AppSignal check-in requests (SPEC §3). Nothing here knows about
 * monitors or storage: it turns query strings and NDJSON bodies into candidate events
 * and per-line rejections.
 */
export const CheckInTypes = ['cron', 'heartbeat'] as const;
export type CheckInType = (typeof CheckInTypes)[number];
export const CronKinds = ['start', 'finish', 'fail'] as const;
export type CronKind = (typeof CronKinds)[number];

export interface ParsedCheckIn {
  /** 1-based line of the body (1 for query-string endpoints). */
  readonly line: number;
  readonly identifier: string;
  /** Absent in legacy and very old payloads: the monitor's own type decides. */
  readonly checkInType: CheckInType | undefined;
  /** Cron only; `undefined` when the client sent none (a finish). */
  readonly kind: CronKind | undefined;
  readonly digest: string | null;
  /** Client time in epoch seconds, if sent. */
  readonly timestamp: number | undefined;
  readonly exitCode: number | null;
  readonly output: string | null;
}

export interface Rejection {
  readonly line: number;
  readonly code: string;
  readonly message: string;
  readonly identifier: string | null;
}

export interface ParseResult {
  readonly checkIns: ParsedCheckIn[];
  readonly rejections: Rejection[];
}

const MAX_IDENTIFIER = 255;
const MAX_DIGEST = 255;
// Years 1970–9999: a millisecond timestamp sent by mistake is refused, not stored in year 58000.
const MAX_TIMESTAMP = 253_402_300_799;
/** Output kept with a `kind=fail` event (the Vigil extension). */
export const MAX_OUTPUT_BYTES = 100 * 1024;
// Control characters are not printable; everything else (any script) is.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

type Field = { ok: true; value: unknown } | { ok: false; code: string; message: string };

const bad = (code: string, message: string): Field => ({ ok: false, code, message });

function identifierField(value: unknown, name: string): Field {
  if (value === undefined || value === null || value === '') return bad('missing_field', `${name}: required`);
  if (typeof value !== 'string') return bad('invalid_field', `${name}: expected a string, got ${typeName(value)}`);
  if ([...value].length > MAX_IDENTIFIER) return bad('invalid_field', `${name}: longer than ${MAX_IDENTIFIER} characters`);
  if (CONTROL.test(value)) return bad('invalid_field', `${name}: contains a control character`);
  return { ok: true, value };
}

function digestField(value: unknown, name: string): Field {
  if (value === undefined || value === null || value === '') return { ok: true, value: null };
  if (typeof value !== 'string') return bad('invalid_field', `${name}: expected a string, got ${typeName(value)}`);
  if (value.length > MAX_DIGEST || CONTROL.test(value)) {
    return bad('invalid_field', `${name}: at most ${MAX_DIGEST} printable characters`);
  }
  return { ok: true, value };
}

function timestampField(value: unknown): Field {
  if (value === undefined || value === null || value === '') return { ok: true, value: undefined };
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && /^\d{1,15}(\.\d+)?$/.test(value)) seconds = Number(value);
  else return bad('invalid_field', `timestamp: expected epoch seconds, got ${JSON.stringify(value)}`);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_TIMESTAMP) {
    return bad('invalid_field', `timestamp: ${seconds} is not epoch seconds between 1970 and 9999`);
  }
  return { ok: true, value: Math.floor(seconds) };
}

/** A missing kind, or any value but `start` (or Vigil's `fail`), is a finish. */
function kindField(value: unknown): Field {
  if (value === undefined || value === null || value === '') return { ok: true, value: undefined };
  if (typeof value !== 'string') return bad('invalid_field', `kind: expected a string, got ${typeName(value)}`);
  return { ok: true, value: value === 'start' || value === 'fail' ? value : 'finish' };
}

function checkInTypeField(value: unknown): Field {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (value === 'cron' || value === 'heartbeat') return { ok: true, value };
  return bad('invalid_field', `check_in_type: expected "cron" or "heartbeat", got ${JSON.stringify(value)}`);
}

function exitCodeField(value: unknown): Field {
  if (value === undefined || value === null || value === '') return { ok: true, value: null };
  const n = typeof value === 'string' && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    return bad('invalid_field', `exit_code: expected a whole number, got ${JSON.stringify(value)}`);
  }
  return { ok: true, value: n };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

interface RawCheckIn {
  identifier: unknown;
  identifierName: string;
  checkInType: unknown;
  kind: unknown;
  digest: unknown;
  digestName: string;
  timestamp: unknown;
  exitCode: unknown;
  output: string | null;
}

const IGNORED: Field = { ok: true, value: undefined };

function build(line: number, raw: RawCheckIn): ParsedCheckIn | Rejection {
  // A line that says it is a heartbeat has no kind, digest or exit code: whatever it carries
  // there is never a reason to reject it (the handler stores none of them for a heartbeat).
  const heartbeat = raw.checkInType === 'heartbeat';
  const fields = [
    identifierField(raw.identifier, raw.identifierName),
    checkInTypeField(raw.checkInType),
    heartbeat ? IGNORED : kindField(raw.kind),
    heartbeat ? IGNORED : digestField(raw.digest, raw.digestName),
    timestampField(raw.timestamp),
    heartbeat ? IGNORED : exitCodeField(raw.exitCode),
  ] as const;
  const identifier = typeof raw.identifier === 'string' && raw.identifier !== '' ? raw.identifier.slice(0, MAX_IDENTIFIER) : null;
  for (const f of fields) {
    if (!f.ok) return { line, code: f.code, message: `line ${line}: ${f.message}`, identifier };
  }
  const [id, type, kind, digest, timestamp, exitCode] = fields.map((f) => (f.ok ? f.value : undefined));
  return {
    line,
    identifier: id as string,
    checkInType: type as CheckInType | undefined,
    // What a heartbeat keeps is the handler's to decide, by the monitor's type when the line names none.
    kind: kind as CronKind | undefined,
    digest: (digest ?? null) as string | null,
    timestamp: timestamp as number | undefined,
    exitCode: (exitCode ?? null) as number | null,
    output: raw.output,
  };
}

const isRejection = (x: ParsedCheckIn | Rejection): x is Rejection => 'code' in x;

function collect(results: (ParsedCheckIn | Rejection)[]): ParseResult {
  const checkIns: ParsedCheckIn[] = [];
  const rejections: Rejection[] = [];
  for (const r of results) {
    if (isRejection(r)) rejections.push(r);
    else checkIns.push(r);
  }
  return { checkIns, rejections };
}

/** `/check_ins/cron?identifier=…&kind=…&digest=…&timestamp=…` (+ `exit_code` and output for `kind=fail`). */
export function parseCronQuery(query: URLSearchParams, body: Buffer): ParseResult {
  const kind = query.get('kind');
  const output = kind === 'fail' && body.length > 0 ? truncateUtf8(body, MAX_OUTPUT_BYTES) : null;
  return collect([
    build(1, {
      identifier: query.get('identifier') ?? undefined,
      identifierName: 'identifier',
      checkInType: 'cron',
      kind: kind ?? undefined,
      digest: query.get('digest') ?? undefined,
      digestName: 'digest',
      timestamp: query.get('timestamp') ?? undefined,
      exitCode: query.get('exit_code') ?? undefined,
      output,
    }),
  ]);
}

/** `/check_ins/heartbeats?identifier=…&timestamp=…` */
export function parseHeartbeatQuery(query: URLSearchParams): ParseResult {
  return collect([
    build(1, {
      identifier: query.get('identifier') ?? undefined,
      identifierName: 'identifier',
      checkInType: 'heartbeat',
      kind: undefined,
      digest: undefined,
      digestName: 'digest',
      timestamp: query.get('timestamp') ?? undefined,
      exitCode: undefined,
      output: null,
    }),
  ]);
}

/**
 * An NDJSON body: one JSON object per line, blank lines skipped, no trailing newline
 * needed; a single object is a one-event batch. `legacy` reads the 2024 `/heartbeats/json`
 * form, where `name` is the identifier and `id` the digest (cron only).
 */
export function parseNdjson(body: string, legacy: boolean): ParseResult {
  const results: (ParsedCheckIn | Rejection)[] = [];
  let start = 0;
  let line = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    line += 1;
    const text = body.slice(start, end).trim();
    start = end + 1;
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'malformed';
      results.push({ line, code: 'invalid_json', message: `line ${line}: not valid JSON (${reason})`, identifier: null });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      results.push({ line, code: 'invalid_json', message: `line ${line}: expected a JSON object, got ${typeName(value)}`, identifier: null });
      continue;
    }
    const o = value as Record<string, unknown>;
    results.push(
      build(line, {
        identifier: legacy ? o.name : o.identifier,
        identifierName: legacy ? 'name' : 'identifier',
        checkInType: legacy ? 'cron' : o.check_in_type,
        kind: o.kind,
        digest: legacy ? o.id : o.digest,
        digestName: legacy ? 'id' : 'digest',
        timestamp: o.timestamp,
        exitCode: o.exit_code,
        output: typeof o.output === 'string' ? truncateUtf8(Buffer.from(o.output, 'utf8'), MAX_OUTPUT_BYTES) : null,
      }),
    );
  }
  return collect(results);
}

/** The first `maxBytes` bytes of UTF-8 text as a string, never cutting a character in two. */
function truncateUtf8(bytes: Buffer, maxBytes: number): string {
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // a continuation byte: back to the character's start
  return bytes.subarray(0, end).toString('utf8');
}
