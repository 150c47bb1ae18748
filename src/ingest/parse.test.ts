import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT_BYTES, parseCronQuery, parseHeartbeatQuery, parseNdjson } from './parse.js';

const q = (s: string) => new URLSearchParams(s);

describe('parseCronQuery', () => {
  it.each([
    ['a finish', 'identifier=job&kind=finish', { kind: 'finish', digest: null, timestamp: undefined }],
    ['no kind is a finish', 'identifier=job', { kind: undefined }],
    ['any kind but start is a finish', 'identifier=job&kind=done', { kind: 'finish' }],
    ['a start with digest and timestamp', 'identifier=job&kind=start&digest=0123456789abcdef&timestamp=1795748500', {
      kind: 'start',
      digest: '0123456789abcdef',
      timestamp: 1795748500,
    }],
    ['fractional seconds are floored', 'identifier=job&timestamp=1795748500.9', { timestamp: 1795748500 }],
    ['fail with exit code', 'identifier=job&kind=fail&exit_code=3', { kind: 'fail', exitCode: 3 }],
  ])('%s', (_name, query, expected) => {
    const result = parseCronQuery(q(query), Buffer.alloc(0));
    expect(result.rejections).toEqual([]);
    expect(result.checkIns[0]).toMatchObject({ identifier: 'job', checkInType: 'cron', ...expected });
  });

  it.each([
    ['missing identifier', '', 'missing_field', 'identifier: required'],
    ['identifier over 255 characters', `identifier=${'x'.repeat(256)}`, 'invalid_field', 'longer than 255'],
    ['control character in identifier', 'identifier=a%0Ab', 'invalid_field', 'control character'],
    ['non-numeric timestamp', 'identifier=job&timestamp=yesterday', 'invalid_field', 'timestamp'],
    ['millisecond timestamp', 'identifier=job&timestamp=1795748500000', 'invalid_field', 'between 1970 and 9999'],
    ['bad exit code', 'identifier=job&kind=fail&exit_code=x', 'invalid_field', 'exit_code'],
  ])('rejects %s', (_name, query, code, message) => {
    const result = parseCronQuery(q(query), Buffer.alloc(0));
    expect(result.checkIns).toEqual([]);
    expect(result.rejections[0]).toMatchObject({ line: 1, code });
    expect(result.rejections[0]!.message).toContain(message);
  });

  it('keeps up to 100 KB of a failed run output and ignores the body otherwise', () => {
    const body = Buffer.alloc(MAX_OUTPUT_BYTES + 10, 'a');
    expect(parseCronQuery(q('identifier=job&kind=fail'), body).checkIns[0]!.output).toHaveLength(MAX_OUTPUT_BYTES);
    expect(parseCronQuery(q('identifier=job&kind=finish'), body).checkIns[0]!.output).toBeNull();
  });

  it('counts identifier length in characters, not bytes', () => {
    const identifier = 'é'.repeat(255);
    expect(parseCronQuery(q(`identifier=${encodeURIComponent(identifier)}`), Buffer.alloc(0)).checkIns).toHaveLength(1);
  });
});

describe('parseHeartbeatQuery', () => {
  it('reads identifier and timestamp and has no kind or digest', () => {
    expect(parseHeartbeatQuery(q('identifier=worker&timestamp=1795748500&kind=start&digest=x')).checkIns[0]).toMatchObject({
      identifier: 'worker',
      checkInType: 'heartbeat',
      kind: undefined,
      digest: null,
      timestamp: 1795748500,
    });
  });
});

describe('parseNdjson', () => {
  it('reads every line, in any key order, without a trailing newline', () => {
    const body = [
      '{"check_in_type":"cron","digest":"3cc318e9ad3e440d","identifier":"backup","kind":"finish","timestamp":1795748500}',
      '{"identifier":"worker","timestamp":1795748500,"check_in_type":"heartbeat"}',
    ].join('\n');
    const result = parseNdjson(body, false);
    expect(result.rejections).toEqual([]);
    expect(result.checkIns.map((c) => [c.line, c.identifier, c.checkInType, c.kind, c.digest])).toEqual([
      [1, 'backup', 'cron', 'finish', '3cc318e9ad3e440d'],
      [2, 'worker', 'heartbeat', undefined, null],
    ]);
  });

  it('skips blank lines and CRLF line ends, keeping line numbers', () => {
    const result = parseNdjson('\r\n{"identifier":"a","check_in_type":"heartbeat"}\r\n\r\n{"identifier":"b","check_in_type":"heartbeat"}\n', false);
    expect(result.checkIns.map((c) => [c.line, c.identifier])).toEqual([
      [2, 'a'],
      [4, 'b'],
    ]);
  });

  it('a single object is a one-event batch', () => {
    expect(parseNdjson('{"identifier":"a","kind":"start","digest":"d","check_in_type":"cron"}', false).checkIns).toHaveLength(1);
  });

  it('leaves check_in_type unset when the client sent none', () => {
    expect(parseNdjson('{"identifier":"a","kind":"start"}', false).checkIns[0]!.checkInType).toBeUndefined();
  });

  it('reads the legacy /heartbeats/json form (name and id)', () => {
    expect(parseNdjson('{"name":"backup","id":"4dd318e9ad3e440d","kind":"start","timestamp":1795748500}', true).checkIns[0]).toMatchObject({
      identifier: 'backup',
      digest: '4dd318e9ad3e440d',
      checkInType: 'cron',
      kind: 'start',
    });
  });

  it.each([
    ['malformed JSON', '{bad', 'invalid_json', 'not valid JSON'],
    ['an array', '[1,2]', 'invalid_json', 'expected a JSON object, got an array'],
    ['a number identifier', '{"identifier":42}', 'invalid_field', 'identifier: expected a string, got a number'],
    ['a string timestamp', '{"identifier":"a","timestamp":"soon"}', 'invalid_field', 'timestamp'],
    ['an unknown check_in_type', '{"identifier":"a","check_in_type":"ping"}', 'invalid_field', 'check_in_type'],
    ['a numeric kind', '{"identifier":"a","kind":1}', 'invalid_field', 'kind: expected a string'],
    ['an object digest', '{"identifier":"a","digest":{}}', 'invalid_field', 'digest: expected a string'],
    ['a missing identifier', '{"kind":"start"}', 'missing_field', 'identifier: required'],
  ])('rejects %s with a stable code naming the line and field', (_name, line, code, message) => {
    const result = parseNdjson(`{"identifier":"ok","check_in_type":"heartbeat"}\n${line}`, false);
    expect(result.checkIns).toHaveLength(1);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ line: 2, code });
    expect(result.rejections[0]!.message).toContain(message);
    expect(result.rejections[0]!.message).toMatch(/^line 2: /);
  });

  it('accepts the complete lines of a body cut short inside the last line', () => {
    // The Node client counts Content-Length in UTF-16 units, so non-ASCII bodies arrive cut.
    const result = parseNdjson('{"identifier":"a","check_in_type":"heartbeat"}\n{"identifier":"caf', false);
    expect(result.checkIns.map((c) => c.identifier)).toEqual(['a']);
    expect(result.rejections.map((r) => r.line)).toEqual([2]);
  });
});
