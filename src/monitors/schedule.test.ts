import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { VigilError } from '../errors.js';
import { MAX_INSTANT, MIN_INSTANT, formatLocal, nextTick, nextTicks, normalizeTimezone, parseSchedule, previousTick } from './schedule.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

function refusal(fn: () => unknown): VigilError {
  try {
    fn();
  } catch (error) {
    if (error instanceof VigilError) return error;
    throw error;
  }
  throw new Error('expected a VigilError');
}

/** All ticks in [from, to), using nextTick only. */
function ticksBetween(expression: string, timezone: string, from: string | number, to: string | number): string[] {
  const schedule = parseSchedule(expression, timezone);
  const end = new Date(to).getTime();
  const out: string[] = [];
  for (let t = nextTick(schedule, new Date(new Date(from).getTime() - 1)); t && t.getTime() < end; t = nextTick(schedule, t)) {
    out.push(t.toISOString());
  }
  return out;
}

describe('parseSchedule refusals', () => {
  const cases: { name: string; expression: string; timezone?: string; code: string; field: string; message: RegExp | string }[] = [
    { name: 'too few fields', expression: '* * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: expected 5 fields (or 6 with a leading seconds field), got 3' },
    { name: 'year field (7 fields)', expression: '0 0 0 1 1 * 2030', code: 'invalid_schedule', field: 'schedule', message: 'schedule: expected 5 fields (or 6 with a leading seconds field), got 7' },
    { name: 'empty', expression: '   ', code: 'invalid_schedule', field: 'schedule', message: 'schedule: must not be empty' },
    { name: 'too long', expression: '1,'.repeat(150) + '2 * * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: longer than 256 characters' },
    { name: 'minute 61', expression: '61 * * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: minute 61 is out of range 0–59' },
    { name: 'hour 24', expression: '0 24 * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: hour 24 is out of range 0–23' },
    { name: 'seconds 60', expression: '60 0 0 * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: seconds 60 is out of range 0–59' },
    { name: 'day-of-week 8', expression: '0 0 * * 8', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-week 8 is out of range 0–7' },
    // croner counts days and months from 0 and would quote 31, -1 and 12 here.
    { name: 'day-of-month 32', expression: '* * 32 * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-month 32 is out of range 1–31' },
    { name: 'day-of-month 0', expression: '* * 0 * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-month 0 is out of range 1–31' },
    { name: 'month 13', expression: '* * * 13 *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: month 13 is out of range 1–12' },
    { name: 'month 0', expression: '* * * 0 *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: month 0 is out of range 1–12' },
    { name: 'value quoted as written', expression: '0 0 032 * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-month 032 is out of range 1–31' },
    { name: 'end of a range', expression: '0 0 1-32 * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-month 32 is out of range 1–31' },
    { name: 'start of a range', expression: '0 0 * 0-11 *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: month 0 is out of range 1–12' },
    { name: 'in a list', expression: '0 0 1 1,13 *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: month 13 is out of range 1–12' },
    { name: 'range with step: the bound written, not the first value stepped onto', expression: '5-70/2 * * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: minute 70 is out of range 0–59' },
    { name: 'month name with a number out of range', expression: '0 0 * JAN-13 *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: month 13 is out of range 1–12' },
    { name: 'step over the field', expression: '*/61 * * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: minute step 61 is out of range 1–60' },
    { name: 'day-of-month step 32', expression: '0 0 */32 * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-month step 32 is out of range 1–31' },
    { name: 'garbage', expression: 'abc * * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: invalid minute field "abc"' },
    { name: 'L in minute', expression: 'L * * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: invalid minute field "L"' },
    { name: 'month name in day-of-week', expression: '0 0 * * JAN', code: 'invalid_schedule', field: 'schedule', message: 'schedule: invalid day-of-week field "JAN"' },
    { name: 'W (not supported)', expression: '0 0 15W * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: invalid day-of-month field "15W"' },
    { name: '+ AND modifier (not supported)', expression: '0 12 1 * +MON', code: 'invalid_schedule', field: 'schedule', message: 'schedule: invalid day-of-week field "+MON"' },
    { name: 'step 0', expression: '*/0 * * * *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: minute step 0 is out of range 1–60' },
    { name: 'reversed range', expression: '0 5-1 * * *', code: 'invalid_schedule', field: 'schedule', message: /from value is larger than to value/i },
    { name: 'nth weekday 6', expression: '0 0 * * MON#6', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-week nth weekday 6 in "MON#6" is out of range 1–5 (or L for the last)' },
    { name: 'nth weekday 0', expression: '0 0 * * 1#0', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-week nth weekday 0 in "1#0" is out of range 1–5 (or L for the last)' },
    { name: 'weekday 8 with L', expression: '0 0 * * 8L', code: 'invalid_schedule', field: 'schedule', message: 'schedule: day-of-week 8 is out of range 0–7' },
    { name: 'unknown macro', expression: '@fortnightly', code: 'invalid_schedule', field: 'schedule', message: /^schedule: unknown macro "@fortnightly" \(expected one of @yearly/ },
    { name: '@reboot', expression: '@reboot', code: 'invalid_schedule', field: 'schedule', message: /^schedule: @reboot is not supported/ },
    { name: 'never fires: 30 Feb', expression: '0 0 30 2 *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: never fires' },
    { name: 'never fires: 31st of 30-day months', expression: '0 0 31 4,6,9,11 *', code: 'invalid_schedule', field: 'schedule', message: 'schedule: never fires' },
    { name: 'unknown zone', expression: '0 * * * *', timezone: 'Mars/Base', code: 'invalid_timezone', field: 'timezone', message: 'timezone: unknown IANA time zone "Mars/Base"' },
    { name: 'empty zone', expression: '0 * * * *', timezone: '', code: 'invalid_timezone', field: 'timezone', message: /^timezone: must be a non-empty/ },
    { name: 'offset instead of zone', expression: '0 * * * *', timezone: '+01:00', code: 'invalid_timezone', field: 'timezone', message: 'timezone: unknown IANA time zone "+01:00"' },
    { name: 'overlong zone', expression: '0 * * * *', timezone: 'A/'.repeat(60), code: 'invalid_timezone', field: 'timezone', message: /^timezone: longer than/ },
  ];
  it.each(cases)('$name', ({ expression, timezone, code, field, message }) => {
    const error = refusal(() => parseSchedule(expression, timezone));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it('accepts every value at the edges of its range', () => {
    for (const expression of ['59 59 23 31 12 7', '0 0 0 1 1 0', '*/60 */24 */31 */12 */7', '*/1 * * * *', '0 0 1-31 1-12 0-7', '0 0 * * 7#5', '0 0 * * 1#1,5#L,0L', '0 0 * JAN-DEC MON-SUN', '0-59/60 0-23/24 * * *']) {
      expect(() => parseSchedule(expression), expression).not.toThrow();
    }
  });

  it('normalizeTimezone refuses unknown zones with invalid_timezone', () => {
    const error = refusal(() => normalizeTimezone('Mars/Base'));
    expect([error.code, error.field, error.message]).toEqual(['invalid_timezone', 'timezone', 'timezone: unknown IANA time zone "Mars/Base"']);
  });
});

describe('parseSchedule accepted forms (UTC, from 2026-01-01T00:00:00Z, a Thursday)', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const cases: { name: string; expression: string; expected: string[] }[] = [
    { name: 'leading seconds field', expression: '15 30 2 * * *', expected: ['2026-01-01T02:30:15.000Z', '2026-01-02T02:30:15.000Z'] },
    { name: 'seconds wildcard step', expression: '*/20 * * * * *', expected: ['2026-01-01T00:00:20.000Z', '2026-01-01T00:00:40.000Z', '2026-01-01T00:01:00.000Z'] },
    { name: '@yearly', expression: '@yearly', expected: ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z'] },
    { name: '@annually', expression: '@annually', expected: ['2027-01-01T00:00:00.000Z'] },
    { name: '@monthly', expression: '@monthly', expected: ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'] },
    { name: '@weekly (Sunday)', expression: '@weekly', expected: ['2026-01-04T00:00:00.000Z', '2026-01-11T00:00:00.000Z'] },
    { name: '@daily', expression: '@daily', expected: ['2026-01-02T00:00:00.000Z'] },
    { name: '@midnight (case-insensitive)', expression: '@MIDNIGHT', expected: ['2026-01-02T00:00:00.000Z'] },
    { name: '@hourly', expression: '@hourly', expected: ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z'] },
    { name: 'L: last day of month', expression: '0 0 L * *', expected: ['2026-01-31T00:00:00.000Z', '2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z'] },
    { name: '5L: last Friday', expression: '0 0 * * 5L', expected: ['2026-01-30T00:00:00.000Z', '2026-02-27T00:00:00.000Z'] },
    { name: 'FRI#L: last Friday', expression: '0 0 * * FRI#L', expected: ['2026-01-30T00:00:00.000Z'] },
    { name: 'MON#2: second Monday', expression: '0 0 * * MON#2', expected: ['2026-01-12T00:00:00.000Z', '2026-02-09T00:00:00.000Z'] },
    { name: 'names, lower case', expression: '0 12 * feb-mar mon', expected: ['2026-02-02T12:00:00.000Z', '2026-02-09T12:00:00.000Z'] },
    { name: 'minute step', expression: '*/15 * * * *', expected: ['2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z'] },
    { name: 'range with step', expression: '0 8-18/5 * * *', expected: ['2026-01-01T08:00:00.000Z', '2026-01-01T13:00:00.000Z', '2026-01-01T18:00:00.000Z', '2026-01-02T08:00:00.000Z'] },
    { name: 'dom OR dow (1st/15th or Monday)', expression: '0 0 1,15 * MON', expected: ['2026-01-05T00:00:00.000Z', '2026-01-12T00:00:00.000Z', '2026-01-15T00:00:00.000Z', '2026-01-19T00:00:00.000Z', '2026-01-26T00:00:00.000Z', '2026-02-01T00:00:00.000Z'] },
    { name: 'dow restricted, dom * (AND with *)', expression: '0 0 * * MON', expected: ['2026-01-05T00:00:00.000Z'] },
    { name: 'dom range OR dow (the classic first-Monday trap)', expression: '0 0 1-3 * MON', expected: ['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '2026-01-05T00:00:00.000Z', '2026-01-12T00:00:00.000Z'] },
    { name: 'dom starting with * means AND (Vixie): odd days that are Mondays', expression: '0 0 */2 * MON', expected: ['2026-01-05T00:00:00.000Z', '2026-01-19T00:00:00.000Z', '2026-02-09T00:00:00.000Z'] },
    { name: 'L OR Friday', expression: '0 0 L * 5', expected: ['2026-01-02T00:00:00.000Z', '2026-01-09T00:00:00.000Z', '2026-01-16T00:00:00.000Z', '2026-01-23T00:00:00.000Z', '2026-01-30T00:00:00.000Z', '2026-01-31T00:00:00.000Z'] },
    { name: '#L and L on a weekday list', expression: '0 0 * * 1#1,5L', expected: ['2026-01-05T00:00:00.000Z', '2026-01-30T00:00:00.000Z', '2026-02-02T00:00:00.000Z', '2026-02-27T00:00:00.000Z'] },
    { name: '? as wildcard', expression: '0 0 ? * MON', expected: ['2026-01-05T00:00:00.000Z'] },
    { name: 'dow 7 is Sunday', expression: '0 0 * * 7', expected: ['2026-01-04T00:00:00.000Z'] },
    { name: 'dow 0 is Sunday', expression: '0 0 * * 0', expected: ['2026-01-04T00:00:00.000Z'] },
    { name: 'leap day (within 5 years)', expression: '0 0 29 2 *', expected: ['2028-02-29T00:00:00.000Z'] },
  ];
  it.each(cases)('$name: $expression', ({ expression, expected }) => {
    expect(nextTicks(parseSchedule(expression), from, expected.length).map(iso)).toEqual(expected);
  });

  it('trims and collapses whitespace, trims the zone, defaults to UTC', () => {
    const s = parseSchedule('  0   9 * *\t1-5 ', ' Europe/Amsterdam ');
    expect([s.expression, s.timezone]).toEqual(['0 9 * * 1-5', 'Europe/Amsterdam']);
    expect(parseSchedule('@hourly').timezone).toBe('UTC');
    expect(parseSchedule('@hourly').expression).toBe('@hourly');
  });


  const kinds: { expression: string; fixedTime: boolean }[] = [
    { expression: '30 2 * * *', fixedTime: true },
    { expression: '15,45 2 * * *', fixedTime: true },
    { expression: '0-59/30 2 * * *', fixedTime: true },
    { expression: '0 1-3 * * *', fixedTime: true },
    { expression: '*/20 30 2 * * *', fixedTime: true },
    { expression: '@daily', fixedTime: true },
    { expression: '0 * * * *', fixedTime: false },
    { expression: '*/15 2 * * *', fixedTime: false },
    { expression: '30 */2 * * *', fixedTime: false },
    { expression: '0 ? * * *', fixedTime: false },
    { expression: '@hourly', fixedTime: false },
  ];
  it.each(kinds)('classifies $expression as fixedTime=$fixedTime (Vixie rule)', ({ expression, fixedTime }) => {
    expect(parseSchedule(expression).fixedTime).toBe(fixedTime);
  });
});

describe('time zone names are kept as given (config as code must not see a diff)', () => {
  // Each is a name Intl accepts but resolves to another one (a link, an old spelling, a legacy zone).
  const cases: { given: string; resolved: string; at: string; local: string }[] = [
    { given: 'Europe/Kyiv', resolved: 'Europe/Kiev', at: '2026-07-01T06:00:00Z', local: '2026-07-01T09:00:00+03:00' },
    { given: 'Asia/Kolkata', resolved: 'Asia/Calcutta', at: '2026-07-01T03:30:00Z', local: '2026-07-01T09:00:00+05:30' },
    { given: 'US/Eastern', resolved: 'America/New_York', at: '2026-07-01T13:00:00Z', local: '2026-07-01T09:00:00-04:00' },
    { given: 'CET', resolved: 'Europe/Brussels', at: '2026-07-01T07:00:00Z', local: '2026-07-01T09:00:00+02:00' },
    { given: 'Etc/UTC', resolved: 'UTC', at: '2026-07-01T09:00:00Z', local: '2026-07-01T09:00:00+00:00' },
    { given: 'europe/amsterdam', resolved: 'Europe/Amsterdam', at: '2026-07-01T07:00:00Z', local: '2026-07-01T09:00:00+02:00' },
  ];
  it.each(cases)('$given stays $given (not $resolved) and computes like it', ({ given, resolved, at, local }) => {
    expect(normalizeTimezone(given)).toBe(given);
    expect(normalizeTimezone(`  ${given}\t`)).toBe(given);
    const schedule = parseSchedule('0 9 * * *', ` ${given} `);
    expect(schedule.timezone).toBe(given);
    expect(iso(nextTick(schedule, new Date('2026-06-30T18:00:00Z')))).toBe(new Date(at).toISOString());
    expect(formatLocal(new Date(at), schedule.timezone)).toBe(local);
    // Same ticks as under the name Intl resolves it to, across a DST change too.
    const winter = new Date('2026-01-15T00:00:00Z');
    expect(nextTicks(schedule, winter, 200).map(iso)).toEqual(nextTicks(parseSchedule('0 9 * * *', resolved), winter, 200).map(iso));
  });
});

describe('DST', () => {
  const cases: { name: string; expression: string; timezone: string; from: string; to: string; expected: string[] }[] = [
    {
      name: 'Amsterdam daily 02:30 across spring forward: fires once at 03:00 CEST',
      expression: '30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-03-28T00:00:00Z', to: '2026-03-31T00:00:00Z',
      expected: ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    },
    {
      name: 'Amsterdam daily 02:30 across fall back: first occurrence only',
      expression: '30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-10-24T00:00:00Z', to: '2026-10-27T00:00:00Z',
      expected: ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    },
    {
      name: 'Amsterdam fixed list in the gap collapses to one tick',
      expression: '15,45 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-03-29T00:00:00Z', to: '2026-03-30T00:30:00Z',
      expected: ['2026-03-29T01:00:00.000Z', '2026-03-30T00:15:00.000Z'],
    },
    {
      name: 'Amsterdam 02:00 and 03:00 in the gap day: one tick at 03:00',
      expression: '0 2,3 * * *', timezone: 'Europe/Amsterdam', from: '2026-03-29T00:00:00Z', to: '2026-03-30T00:00:00Z',
      expected: ['2026-03-29T01:00:00.000Z'],
    },
    {
      name: 'Amsterdam range step without * is fixed (Vixie): once in the gap',
      expression: '0-59/30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-03-29T00:00:00Z', to: '2026-03-30T00:00:00Z',
      expected: ['2026-03-29T01:00:00.000Z'],
    },
    {
      name: 'Amsterdam range step without * is fixed (Vixie): once in the repeated hour',
      expression: '0-59/30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-10-25T00:00:00Z', to: '2026-10-26T00:00:00Z',
      expected: ['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z'],
    },
    {
      name: 'Amsterdam */30 in hour 2 is wild: no ticks in the gap',
      expression: '*/30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-03-29T00:00:00Z', to: '2026-03-30T00:00:00Z',
      expected: [],
    },
    {
      name: 'Amsterdam */30 in hour 2 is wild: both passes of the repeated hour',
      expression: '*/30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-10-25T00:00:00Z', to: '2026-10-26T00:00:00Z',
      expected: ['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T01:30:00.000Z'],
    },
    {
      name: 'Amsterdam seconds wildcard with fixed minute/hour: one tick in the gap',
      expression: '*/20 30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-03-29T00:00:00Z', to: '2026-03-30T00:00:00Z',
      expected: ['2026-03-29T01:00:00.000Z'],
    },
    {
      name: 'Amsterdam seconds wildcard with fixed minute/hour: first pass only',
      expression: '*/20 30 2 * * *', timezone: 'Europe/Amsterdam', from: '2026-10-25T00:00:00Z', to: '2026-10-26T00:00:00Z',
      expected: ['2026-10-25T00:30:00.000Z', '2026-10-25T00:30:20.000Z', '2026-10-25T00:30:40.000Z'],
    },
    {
      name: 'New York weekdays 09:00 across spring forward (2026-03-08)',
      expression: '0 9 * * 1-5', timezone: 'America/New_York', from: '2026-03-05T00:00:00Z', to: '2026-03-11T00:00:00Z',
      expected: ['2026-03-05T14:00:00.000Z', '2026-03-06T14:00:00.000Z', '2026-03-09T13:00:00.000Z', '2026-03-10T13:00:00.000Z'],
    },
    {
      name: 'New York weekdays 09:00 across fall back (2026-11-01)',
      expression: '0 9 * * 1-5', timezone: 'America/New_York', from: '2026-10-29T00:00:00Z', to: '2026-11-04T00:00:00Z',
      expected: ['2026-10-29T13:00:00.000Z', '2026-10-30T13:00:00.000Z', '2026-11-02T14:00:00.000Z', '2026-11-03T14:00:00.000Z'],
    },
    {
      name: 'New York 01:30 on fall-back day: first occurrence (EDT) only',
      expression: '30 1 * * *', timezone: 'America/New_York', from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z',
      expected: ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    },
    {
      name: 'Lord Howe 02:15 across spring forward 02:00->02:30: fires at 02:30 (+11)',
      expression: '15 2 * * *', timezone: 'Australia/Lord_Howe', from: '2026-10-02T12:00:00Z', to: '2026-10-05T12:00:00Z',
      expected: ['2026-10-02T15:45:00.000Z', '2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z'],
    },
    {
      name: 'Lord Howe 02:15 across fall back 02:00->01:30 (02:15 happens once)',
      expression: '15 2 * * *', timezone: 'Australia/Lord_Howe', from: '2026-04-03T12:00:00Z', to: '2026-04-06T12:00:00Z',
      expected: ['2026-04-03T15:15:00.000Z', '2026-04-04T15:45:00.000Z', '2026-04-05T15:45:00.000Z'],
    },
    {
      name: 'Lord Howe 01:45 on fall-back day: first occurrence (+11) only',
      expression: '45 1 * * *', timezone: 'Australia/Lord_Howe', from: '2026-04-04T00:00:00Z', to: '2026-04-05T12:00:00Z',
      expected: ['2026-04-04T14:45:00.000Z'],
    },
    {
      name: 'Lord Howe hourly across spring forward: no 02:00 local',
      expression: '0 * * * *', timezone: 'Australia/Lord_Howe', from: '2026-10-03T13:00:00Z', to: '2026-10-03T18:00:01Z',
      expected: ['2026-10-03T13:30:00.000Z', '2026-10-03T14:30:00.000Z', '2026-10-03T16:00:00.000Z', '2026-10-03T17:00:00.000Z', '2026-10-03T18:00:00.000Z'],
    },
    {
      name: 'Lord Howe hourly across fall back: the repeated half hour has no :00',
      expression: '0 * * * *', timezone: 'Australia/Lord_Howe', from: '2026-04-04T12:30:00Z', to: '2026-04-04T17:00:00Z',
      expected: ['2026-04-04T13:00:00.000Z', '2026-04-04T14:00:00.000Z', '2026-04-04T15:30:00.000Z', '2026-04-04T16:30:00.000Z'],
    },
    {
      name: 'Lord Howe */15 across fall back: repeated 01:30-01:59 fires twice',
      expression: '*/15 * * * *', timezone: 'Australia/Lord_Howe', from: '2026-04-04T14:30:00Z', to: '2026-04-04T15:31:00Z',
      expected: ['2026-04-04T14:30:00.000Z', '2026-04-04T14:45:00.000Z', '2026-04-04T15:00:00.000Z', '2026-04-04T15:15:00.000Z', '2026-04-04T15:30:00.000Z'],
    },
  ];
  it.each(cases)('$name', ({ expression, timezone, from, to, expected }) => {
    expect(ticksBetween(expression, timezone, from, to)).toEqual(expected);
  });

  const days: { name: string; expression: string; start: string; end: string; count: number; step: number }[] = [
    { name: 'hourly, spring-forward day', expression: '0 * * * *', start: '2026-03-28T23:00:00Z', end: '2026-03-29T22:00:00Z', count: 23, step: HOUR },
    { name: 'hourly, fall-back day', expression: '0 * * * *', start: '2026-10-24T22:00:00Z', end: '2026-10-25T23:00:00Z', count: 25, step: HOUR },
    { name: '*/15, spring-forward day', expression: '*/15 * * * *', start: '2026-03-28T23:00:00Z', end: '2026-03-29T22:00:00Z', count: 92, step: 15 * MINUTE },
    { name: '*/15, fall-back day', expression: '*/15 * * * *', start: '2026-10-24T22:00:00Z', end: '2026-10-25T23:00:00Z', count: 100, step: 15 * MINUTE },
  ];
  it.each(days)('Amsterdam $name: $count ticks, evenly spaced in UTC', ({ expression, start, end, count, step }) => {
    const ticks = ticksBetween(expression, 'Europe/Amsterdam', start, end).map((t) => Date.parse(t));
    expect(ticks).toHaveLength(count);
    expect(new Set(ticks).size).toBe(count);
    expect(ticks[0]).toBe(Date.parse(start));
    ticks.slice(1).forEach((t, i) => expect(t - ticks[i]!).toBe(step));
    expect(Date.parse(end) - ticks[ticks.length - 1]!).toBe(step);
  });

  it('Amsterdam hourly on the fall-back day repeats local 02:00 with a different offset', () => {
    const s = parseSchedule('0 * * * *', 'Europe/Amsterdam');
    const local = nextTicks(s, new Date('2026-10-24T23:59:59Z'), 4).map((t) => formatLocal(t, 'Europe/Amsterdam'));
    expect(local).toEqual(['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T03:00:00+01:00', '2026-10-25T04:00:00+01:00']);
  });
});

/** Local wall time of `t` as ms-as-if-UTC, computed independently of the module (formatToParts). */
function wallClock(format: Intl.DateTimeFormat, t: number): number {
  const parts = format.formatToParts(t);
  const part = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
}

/** Minute-by-minute reference implementation of the classic-cron DST rules. */
function bruteForce(expression: string, timezone: string, start: number, end: number, fixedTime: boolean): number[] {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const cron = new Cron(expression, { utcOffset: 0 });
  const matches = (wall: number): boolean => cron.match(new Date(wall));
  const ticks: number[] = [];
  const seen = new Set<number>();
  let previous = wallClock(format, start - MINUTE);
  for (let t = start; t < end; t += MINUTE) {
    const wall = wallClock(format, t);
    if (!fixedTime) {
      if (matches(wall)) ticks.push(t);
    } else {
      let fire = matches(wall) && !seen.has(wall);
      for (let skipped = previous + MINUTE; skipped < wall && !fire; skipped += MINUTE) fire = matches(skipped);
      if (fire) ticks.push(t);
    }
    seen.add(wall);
    previous = wall;
  }
  return ticks;
}

describe('agrees with a minute-by-minute reference around DST changes', () => {
  const transitions: { timezone: string; at: string }[] = [
    { timezone: 'Europe/Amsterdam', at: '2026-03-29T01:00:00Z' },
    { timezone: 'Europe/Amsterdam', at: '2026-10-25T01:00:00Z' },
    { timezone: 'America/New_York', at: '2026-03-08T07:00:00Z' },
    { timezone: 'America/New_York', at: '2026-11-01T06:00:00Z' },
    { timezone: 'Australia/Lord_Howe', at: '2026-04-04T15:00:00Z' },
    { timezone: 'Australia/Lord_Howe', at: '2026-10-03T15:30:00Z' },
  ];
  const expressions = ['0 * * * *', '*/20 * * * *', '30 * * * *', '30 2 * * *', '15,45 1-3 * * *', '0-59/20 2 * * *', '*/10 1,2 * * *', '45 1 * * *', '0 3 * * *', '5 0-23/2 * * *'];
  const cases = transitions.flatMap((tr) => expressions.map((expression) => ({ ...tr, expression })));
  it.each(cases)('$timezone $at: $expression', ({ timezone, at, expression }) => {
    const schedule = parseSchedule(expression, timezone);
    // Every schedule here fires at least daily, so instants within 20 h of the change have their
    // previous and next tick inside this 96-hour reference window.
    const start = Date.parse(at) - 48 * HOUR;
    const end = Date.parse(at) + 48 * HOUR;
    const expected = bruteForce(expression, timezone, start, end, schedule.fixedTime);
    expect(ticksBetween(expression, timezone, start, end).map((t) => Date.parse(t))).toEqual(expected);
    // nextTick / previousTick from arbitrary instants agree with the reference list.
    for (let t = Date.parse(at) - 20 * HOUR; t < Date.parse(at) + 20 * HOUR; t += 7 * MINUTE + 13_000) {
      expect(nextTick(schedule, new Date(t))?.getTime()).toBe(expected.find((x) => x > t));
      expect(previousTick(schedule, new Date(t))?.getTime()).toBe(expected.findLast((x) => x <= t));
    }
  });
});

describe('wall-clock matcher agrees with croner (UTC, patterns where both use the same day rule)', () => {
  const expressions = ['*/7 * * * *', '0 0 L * *', '0 0 * * 5L', '0 0 * * MON#2', '30 4 1,15 * 5', '0 0 29 2 *', '15 30 2 * * *', '*/20 */7 * * * *', '0 12 * JAN-MAR,SEP MON-FRI', '0 0 1-7 * MON', '0 0 * * 1#1,5L', '59 23 31 12 *', '0 0 L 2 *', '0 0 L * 5', '5 4 * * 0,7'];
  const starts = ['2026-01-01T00:00:00Z', '2027-12-31T23:59:59Z', '2028-02-28T12:00:00Z', '2031-06-15T08:07:06Z'];
  it.each(expressions)('%s', (expression) => {
    const ours = parseSchedule(expression);
    const theirs = new Cron(expression, { timezone: 'UTC' });
    for (const start of starts) {
      expect(nextTicks(ours, new Date(start), 12).map(iso)).toEqual(theirs.nextRuns(12, new Date(start)).map(iso));
      const back: string[] = [];
      for (let t = previousTick(ours, new Date(start)); t && back.length < 12; t = previousTick(ours, new Date(t.getTime() - 1))) back.push(t.toISOString());
      // croner's previousRuns is strictly before its reference; ours is "at or before".
      expect(back).toEqual(theirs.previousRuns(12, new Date(Date.parse(start) + 1000)).map(iso));
    }
  });
});

describe('previousTick', () => {
  const schedules: { expression: string; timezone: string }[] = [
    { expression: '30 2 * * *', timezone: 'Europe/Amsterdam' },
    { expression: '0 * * * *', timezone: 'Europe/Amsterdam' },
    { expression: '*/15 * * * *', timezone: 'Australia/Lord_Howe' },
    { expression: '15 2 * * *', timezone: 'Australia/Lord_Howe' },
    { expression: '0 9 * * 1-5', timezone: 'America/New_York' },
    { expression: '0 0 L * *', timezone: 'Asia/Tokyo' },
    { expression: '@yearly', timezone: 'UTC' },
    { expression: '*/10 * * * * *', timezone: 'Europe/London' },
    { expression: '0 0 29 2 *', timezone: 'America/Sao_Paulo' },
  ];
  const instants = ['2026-03-29T00:59:59.500Z', '2026-03-29T01:00:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-04-04T15:10:00Z', '2026-10-03T15:40:00Z', '2026-11-01T06:30:00Z', '2026-06-15T12:34:56Z'];
  it.each(schedules)('previousTick(nextTick(t)) === nextTick(t) for $expression in $timezone', ({ expression, timezone }) => {
    const schedule = parseSchedule(expression, timezone);
    for (const at of instants) {
      const next = nextTick(schedule, new Date(at));
      expect(next).not.toBeNull();
      expect(iso(previousTick(schedule, next!))).toBe(iso(next));
      const previous = previousTick(schedule, new Date(at));
      expect(previous).not.toBeNull();
      expect(previous!.getTime()).toBeLessThanOrEqual(Date.parse(at));
      expect(iso(nextTick(schedule, previous!))).toBe(iso(next));
    }
  });

  it('includes a tick exactly at `at` and ignores milliseconds', () => {
    const s = parseSchedule('0 * * * *');
    expect(iso(previousTick(s, new Date('2026-01-01T10:00:00Z')))).toBe('2026-01-01T10:00:00.000Z');
    expect(iso(previousTick(s, new Date('2026-01-01T10:00:00.999Z')))).toBe('2026-01-01T10:00:00.000Z');
    expect(iso(nextTick(s, new Date('2026-01-01T10:00:00.999Z')))).toBe('2026-01-01T11:00:00.000Z');
  });
});

describe('search limits and arguments', () => {
  it('finds ticks years ahead; previousTick looks back only ~5 years', () => {
    // 5th Monday of February: only in leap years whose 29 February is a Monday (2016, 2044).
    const s = parseSchedule('0 0 * 2 MON#5');
    expect(iso(nextTick(s, new Date('2026-01-01T00:00:00Z')))).toBe('2044-02-29T00:00:00.000Z');
    expect(previousTick(s, new Date('2026-01-01T00:00:00Z'))).toBeNull();
    expect(iso(previousTick(s, new Date('2020-01-01T00:00:00Z')))).toBe('2016-02-29T00:00:00.000Z');
  });

  const rare: { name: string; expression: string; timezone: string; from: string; expected: string[] }[] = [
    // A day-of-week field starting with * means AND (Vixie): 29 February that is a Sunday.
    { name: '29 Feb on a Sunday (28 years apart)', expression: '0 0 29 2 */7', timezone: 'UTC', from: '2026-01-01T00:00:00Z', expected: ['2032-02-29T00:00:00.000Z', '2060-02-29T00:00:00.000Z', '2088-02-29T00:00:00.000Z', '2128-02-29T00:00:00.000Z'] },
    // 2100 is no leap year: the longest gap any schedule can have.
    { name: 'the 40-year gap across 2100', expression: '0 0 29 2 */7', timezone: 'UTC', from: '2088-03-01T00:00:00Z', expected: ['2128-02-29T00:00:00.000Z'] },
    { name: 'in a zone with DST', expression: '30 2 29 2 */7', timezone: 'Europe/Amsterdam', from: '2026-06-01T00:00:00Z', expected: ['2032-02-29T01:30:00.000Z', '2060-02-29T01:30:00.000Z'] },
    // Months ahead, then into the spring-forward gap: fires once at its end (03:00 CEST).
    { name: 'yearly into a DST gap', expression: '30 2 29 3 *', timezone: 'Europe/Amsterdam', from: '2025-06-01T00:00:00Z', expected: ['2026-03-29T01:00:00.000Z', '2027-03-29T00:30:00.000Z'] },
    // A repeated wall time months ahead: the first occurrence only (CEST, not CET). 25 October is
    // the fall-back day in 2026; in 2027 it is still summer time.
    { name: 'yearly into a DST overlap', expression: '30 2 25 10 *', timezone: 'Europe/Amsterdam', from: '2025-11-01T00:00:00Z', expected: ['2026-10-25T00:30:00.000Z', '2027-10-25T00:30:00.000Z'] },
    { name: 'wildcard job into a DST overlap: both passes', expression: '*/30 2 25 10 *', timezone: 'Europe/Amsterdam', from: '2025-11-01T00:00:00Z', expected: ['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T01:30:00.000Z'] },
  ];
  it.each(rare)('rare schedule, $name: $expression', ({ expression, timezone, from, expected }) => {
    const s = parseSchedule(expression, timezone);
    expect(nextTicks(s, new Date(from), expected.length).map(iso)).toEqual(expected);
    expect(iso(nextTick(s, new Date(from)))).toBe(expected[0]);
  });

  // nextTick jumps over DST segments that cannot hold a tick; previousTick walks every one.
  // Once a year, in the hour repeated at the fall back (Europe, United States, Lord Howe), and others.
  const sparse = ['*/30 2 * 10 SUN#L', '*/30 1 * 11 SUN#1', '*/15 1 * 4 SUN#1', '30 2 29 3 *', '0 3 L * *', '15 1 * 3,10 SUN#L', '*/20 2 * 4,10 SUN#1', '0 0 1 */4 *'];
  const zones = ['Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Apia'];
  it.each(zones)('sparse schedules in %s: nextTick and previousTick agree', (timezone) => {
    for (const expression of sparse) {
      const schedule = parseSchedule(expression, timezone);
      // From tick to tick: nothing between two consecutive ticks.
      const ticks = nextTicks(schedule, new Date('2010-01-01T00:00:00Z'), 40).map((d) => d.getTime());
      expect(ticks).toHaveLength(40);
      ticks.forEach((tick, i) => {
        expect(previousTick(schedule, new Date(tick))?.getTime()).toBe(tick);
        if (i > 0) expect(previousTick(schedule, new Date(tick - 1000))?.getTime(), `${expression}: before ${new Date(tick).toISOString()}`).toBe(ticks[i - 1]);
      });
      // From arbitrary instants.
      for (let t = Date.parse('2010-01-01T00:00:00Z'); t < Date.parse('2014-01-01T00:00:00Z'); t += 9 * 86_400_000 + 3_600_000) {
        const next = nextTick(schedule, new Date(t));
        expect(next, `${expression} after ${new Date(t).toISOString()}`).not.toBeNull();
        expect(previousTick(schedule, new Date(next!.getTime() - 1000))?.getTime() ?? 0, `${expression}: a tick between ${new Date(t).toISOString()} and ${iso(next)}`).toBeLessThanOrEqual(t);
      }
    }
  });

  it('stops at the last representable instant instead of throwing', () => {
    const yearly = parseSchedule('@yearly');
    expect(nextTicks(yearly, new Date('9998-06-01T00:00:00Z'), 3).map(iso)).toEqual(['9999-01-01T00:00:00.000Z']);
    expect(nextTick(yearly, new Date(MAX_INSTANT))).toBeNull();
    expect(nextTicks(parseSchedule('0 0 29 2 */7', 'Pacific/Kiritimati'), new Date('9990-01-01T00:00:00Z'), 3)).toEqual([]);
    expect(formatLocal(new Date(MAX_INSTANT), 'Pacific/Kiritimati')).toBe('9999-01-01T14:00:00+14:00');
    expect(iso(previousTick(yearly, new Date(MIN_INSTANT)))).toBe('1000-01-01T00:00:00.000Z');
    expect(previousTick(yearly, new Date(MIN_INSTANT + 1000 * 86_400_000))).not.toBeNull();
    expect(previousTick(parseSchedule('0 0 2 1 *'), new Date(MIN_INSTANT))).toBeNull();
  });

  it('nextTicks with count 0 is empty; bad arguments throw', () => {
    const s = parseSchedule('@hourly');
    expect(nextTicks(s, new Date(), 0)).toEqual([]);
    expect(() => nextTicks(s, new Date(), -1)).toThrow(RangeError);
    expect(() => nextTick(s, new Date(Number.NaN))).toThrow(RangeError);
    expect(() => previousTick(s, new Date(8.64e15))).toThrow(RangeError);
    expect(() => formatLocal(new Date(-8.64e15), 'UTC')).toThrow(RangeError);
  });
});

describe('formatLocal', () => {
  const cases: { at: string; timezone: string; expected: string }[] = [
    { at: '2026-03-29T00:59:59Z', timezone: 'Europe/Amsterdam', expected: '2026-03-29T01:59:59+01:00' },
    { at: '2026-03-29T01:00:00Z', timezone: 'Europe/Amsterdam', expected: '2026-03-29T03:00:00+02:00' },
    { at: '2026-10-25T00:30:00Z', timezone: 'Europe/Amsterdam', expected: '2026-10-25T02:30:00+02:00' },
    { at: '2026-10-25T01:30:00Z', timezone: 'Europe/Amsterdam', expected: '2026-10-25T02:30:00+01:00' },
    { at: '2026-03-08T06:59:59Z', timezone: 'America/New_York', expected: '2026-03-08T01:59:59-05:00' },
    { at: '2026-03-08T07:00:00Z', timezone: 'America/New_York', expected: '2026-03-08T03:00:00-04:00' },
    { at: '2026-10-03T15:29:59Z', timezone: 'Australia/Lord_Howe', expected: '2026-10-04T01:59:59+10:30' },
    { at: '2026-10-03T15:30:00Z', timezone: 'Australia/Lord_Howe', expected: '2026-10-04T02:30:00+11:00' },
    { at: '2026-06-01T12:00:00.789Z', timezone: 'UTC', expected: '2026-06-01T12:00:00+00:00' },
    { at: '2026-06-01T12:00:00Z', timezone: 'Asia/Kathmandu', expected: '2026-06-01T17:45:00+05:45' },
  ];
  it.each(cases)('$at in $timezone is $expected', ({ at, timezone, expected }) => {
    expect(formatLocal(new Date(at), timezone)).toBe(expected);
  });

  it('refuses an unknown zone', () => {
    expect(refusal(() => formatLocal(new Date(), 'Mars/Base')).code).toBe('invalid_timezone');
  });
});
