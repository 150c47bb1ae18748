/**
 * Pure cron maths for cron monitors: parse and validate schedules, and find ticks in an IANA zone.
 *
 * croner's CronPattern parses and validates; its tables are copied into a small wall-clock matcher
 * (a croner instance holds ~80 KB, too much to keep one per monitor). Wall times are mapped to real
 * instants here, following classic (Vixie/cronie) cron across DST changes:
 * - fixed-time jobs (neither the minute nor the hour field starts with `*`): a wall time inside a
 *   spring-forward gap fires once, at the end of the gap; a repeated wall time fires once, at its
 *   first occurrence.
 * - wildcard jobs: follow real time. Wall times in a gap never happen; repeated ones fire again.
 * croner's own timezone mode is not used: it classifies fixed-time jobs differently (any step, and
 * the seconds field, make a job an interval job there).
 */
import { CronPattern } from 'croner';
import { VigilError } from '../errors.js';

/** Internal: a compiled pattern, matched against wall-clock time. */
export interface WallMatcher {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Bit d set: day-of-month d matches. */
  readonly days: number;
  readonly lastDay: boolean;
  /** Bit m set: month m (0-11) matches. */
  readonly months: number;
  /** Per weekday (0 = Sunday): 0 = no; bits 1,2,4,8,16 = 1st..5th occurrence; 32 = last. */
  readonly weekdays: readonly number[];
  /** Vixie: if either day field starts with `*`, both must match; otherwise either may. */
  readonly dayAnd: boolean;
}

/** A validated, compiled cron schedule. Immutable; safe to share and cache. */
export interface CronSchedule {
  /** The expression as given, trimmed and with runs of whitespace collapsed. */
  readonly expression: string;
  /**
   * The IANA zone name as given (trimmed), never swapped for the name `Intl` resolves it to:
   * `Europe/Kyiv` stays `Europe/Kyiv`, so config-as-code tools don't see a diff on every run.
   */
  readonly timezone: string;
  /** True for classic-cron fixed-time jobs (minute and hour fields don't start with `*`). */
  readonly fixedTime: boolean;
  /** Internal: the compiled pattern. */
  readonly matcher: WallMatcher;
}

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/**
 * How far nextTick looks: one Gregorian cycle (400 years), after which every day pattern repeats,
 * so a schedule that fires at all has a tick within it. The longest real gap is 40 years (29
 * February on a given weekday, across 2100), and the search stops at the first tick it finds.
 */
const NEXT_SEARCH_LIMIT_MS = 146_097 * DAY_MS;
/** How far previousTick looks back (~5 years): the evaluator only asks about recent ticks. */
const PREVIOUS_SEARCH_LIMIT_MS = 5 * 366 * DAY_MS;
const MAX_EXPRESSION_LENGTH = 256;
const MAX_TIMEZONE_LENGTH = 100;
const MAX_CACHED_SCHEDULES = 10_000;
const MAX_ZONE_ALIASES = 2_000;
/**
 * Instants accepted by the public functions, and the range ticks are found in (four-digit years
 * keep the calendar maths and the ISO-8601 strings simple): 1000-01-01T00:00:00Z.
 */
export const MIN_INSTANT = Date.UTC(1000, 0, 1);
/** The last instant accepted, and the last a tick may fall on: 9999-01-01T00:00:00Z. */
export const MAX_INSTANT = Date.UTC(9999, 0, 1);

const MACROS: ReadonlyMap<string, string> = new Map([
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
]);
const PLAIN = /^[0-9*?,\-/]+$/;
/**
 * Per field (seconds first): its name, the characters it may hold, the names it accepts, its
 * values, and the largest step croner accepts (the size of its table for the field).
 */
interface FieldRule {
  readonly name: string;
  readonly chars: RegExp;
  readonly names: RegExp | null;
  readonly min: number;
  readonly max: number;
  readonly maxStep: number;
}
const FIELDS: readonly FieldRule[] = [
  { name: 'seconds', chars: PLAIN, names: null, min: 0, max: 59, maxStep: 60 },
  { name: 'minute', chars: PLAIN, names: null, min: 0, max: 59, maxStep: 60 },
  { name: 'hour', chars: PLAIN, names: null, min: 0, max: 23, maxStep: 24 },
  { name: 'day-of-month', chars: /^[0-9*?,\-/L]+$/, names: null, min: 1, max: 31, maxStep: 31 },
  { name: 'month', chars: PLAIN, names: /JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC/g, min: 1, max: 12, maxStep: 12 },
  { name: 'day-of-week', chars: /^[0-9*?,\-/#L]+$/, names: /SUN|MON|TUE|WED|THU|FRI|SAT/g, min: 0, max: 7, maxStep: 7 },
];
/** One list item: `*`, `?`, `N` or `N-M`, with an optional `/step`. Other shapes are left to croner. */
const ITEM = /^(?:[*?]|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/;
const OFFSET = /GMT(?:([+-])(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

const invalidSchedule = (problem: string): VigilError =>
  new VigilError('invalid_schedule', `schedule: ${problem}`, 'schedule');
const invalidTimezone = (problem: string): VigilError =>
  new VigilError('invalid_timezone', `timezone: ${problem}`, 'timezone');

// ---------------------------------------------------------------------------------------------
// Time zones: offsets come from Intl; each UTC year is cut into segments of constant offset.

/** A stretch [start, end) of constant UTC offset; `before` is the offset just before `start`. */
interface Segment {
  readonly start: number;
  readonly end: number;
  readonly offset: number;
  readonly before: number;
}

interface Zone {
  readonly name: string;
  readonly format: Intl.DateTimeFormat;
  readonly years: Map<number, readonly Segment[]>;
}

const zonesByName = new Map<string, Zone>();
const zoneAliases = new Map<string, Zone>();

function zoneFor(timezone: string): Zone {
  const known = zoneAliases.get(timezone);
  if (known) return known;
  if (typeof timezone !== 'string' || timezone.trim() === '') throw invalidTimezone('must be a non-empty IANA time zone name');
  if (timezone.length > MAX_TIMEZONE_LENGTH) throw invalidTimezone(`longer than ${MAX_TIMEZONE_LENGTH} characters`);
  // Intl resolves links to its own canonical name (Europe/Kyiv -> Europe/Kiev); the zone data is
  // shared under that name, while callers keep the name they were given.
  let name = '';
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: timezone.trim() }).resolvedOptions().timeZone;
  } catch {
    // Unknown zone: reported below.
  }
  // Newer runtimes accept bare offsets such as "+01:00"; those are not IANA zones.
  if (!/^[A-Za-z]/.test(name)) throw invalidTimezone(`unknown IANA time zone ${JSON.stringify(timezone)}`);
  let zone = zonesByName.get(name);
  if (!zone) {
    const format = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
    zone = { name, format, years: new Map() };
    zonesByName.set(name, zone);
  }
  if (zoneAliases.size >= MAX_ZONE_ALIASES) zoneAliases.clear();
  zoneAliases.set(timezone, zone);
  return zone;
}

/** UTC offset (ms) in force at instant `t`, straight from Intl. */
function rawOffset(zone: Zone, t: number): number {
  const match = OFFSET.exec(zone.format.format(t));
  if (!match) throw new Error(`cannot read the UTC offset of ${zone.name}`);
  if (match[1] === undefined) return 0;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
  return (match[1] === '-' ? -seconds : seconds) * SECOND_MS;
}

/** Offset segments of one UTC year, found by probing daily and bisecting to the second. */
function yearSegments(zone: Zone, year: number): readonly Segment[] {
  const cached = zone.years.get(year);
  if (cached) return cached;
  const start = new Date(0).setUTCFullYear(year, 0, 1);
  const end = new Date(0).setUTCFullYear(year + 1, 0, 1);
  const segments: Segment[] = [];
  let segStart = start;
  let before = rawOffset(zone, start - SECOND_MS);
  let current = rawOffset(zone, start);
  let lo = start;
  while (lo < end - SECOND_MS) {
    const hi = Math.min(lo + DAY_MS, end - SECOND_MS);
    if (rawOffset(zone, hi) === current) {
      lo = hi;
      continue;
    }
    let a = lo;
    let b = hi;
    while (b - a > SECOND_MS) {
      const mid = a + Math.floor((b - a) / 2 / SECOND_MS) * SECOND_MS;
      if (rawOffset(zone, mid) === current) a = mid;
      else b = mid;
    }
    segments.push({ start: segStart, end: b, offset: current, before });
    before = current;
    current = rawOffset(zone, b);
    segStart = b;
    lo = b;
  }
  segments.push({ start: segStart, end, offset: current, before });
  zone.years.set(year, segments);
  return segments;
}

function segmentAt(zone: Zone, t: number): Segment {
  const segments = yearSegments(zone, new Date(t).getUTCFullYear());
  let found = segments[0];
  for (const segment of segments) if (segment.start <= t) found = segment;
  if (!found) throw new Error(`no UTC offset known for ${zone.name}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const scheduleCache = new Map<string, CronSchedule>();

/**
 * The zone name as given, trimmed, once Intl accepts it; throws VigilError('invalid_timezone').
 * Aliases are kept (`US/Eastern` stays `US/Eastern`): they compute the same offsets.
 */
export function normalizeTimezone(timezone: string): string {
  zoneFor(timezone);
  return timezone.trim();
}

/** Validates and compiles; throws VigilError. The timezone (default 'UTC') is kept as given, trimmed. */
export function parseSchedule(expression: string, timezone = 'UTC'): CronSchedule {
  if (typeof expression !== 'string') throw invalidSchedule('must be a string');
  const normalized = expression.trim().replace(/\s+/g, ' ');
  const key = `${timezone}\n${normalized}`;
  const cached = scheduleCache.get(key);
  if (cached) return cached;

  const { pattern, fixedTime, dayAnd } = checkExpression(normalized);
  let parsed: CronPattern;
  try {
    parsed = new CronPattern(pattern, undefined, { mode: '5-or-6-parts' });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw invalidSchedule(message.replace(/^CronPattern:\s*/, '').replace(/^\w/, (c) => c.toLowerCase()));
  }
  const values = (flags: readonly number[]): number[] => flags.flatMap((on, i) => (on ? [i] : []));
  const bits = (flags: readonly number[], shift: number): number => flags.reduce((acc, on, i) => (on ? acc | (1 << (i + shift)) : acc), 0);
  const matcher: WallMatcher = {
    seconds: values(parsed.second),
    minutes: values(parsed.minute),
    hours: values(parsed.hour),
    days: bits(parsed.day, 1),
    lastDay: parsed.lastDayOfMonth,
    months: bits(parsed.month, 0),
    weekdays: parsed.dayOfWeek.slice(0, 7),
    dayAnd,
  };
  // Day patterns repeat every 28 years between 1901 and 2099, so this finds any schedule that fires.
  if (wallSearch(matcher, Date.UTC(1999, 11, 31, 23, 59, 59), 1, 28 * 366) === null) throw invalidSchedule('never fires');

  const schedule: CronSchedule = { expression: normalized, timezone: normalizeTimezone(timezone), fixedTime, matcher };
  if (scheduleCache.size >= MAX_CACHED_SCHEDULES) scheduleCache.delete(scheduleCache.keys().next().value ?? '');
  scheduleCache.set(key, schedule);
  return schedule;
}

/** Expands macros, checks the field count and characters, and classifies the job (Vixie rule). */
function checkExpression(expression: string): { pattern: string; fixedTime: boolean; dayAnd: boolean } {
  if (expression === '') throw invalidSchedule('must not be empty');
  if (expression.length > MAX_EXPRESSION_LENGTH) throw invalidSchedule(`longer than ${MAX_EXPRESSION_LENGTH} characters`);
  let pattern = expression;
  if (expression.startsWith('@')) {
    const macro = expression.toLowerCase();
    if (macro === '@reboot') throw invalidSchedule('@reboot is not supported: a cron monitor needs a time-based schedule');
    const expanded = MACROS.get(macro);
    if (expanded === undefined) throw invalidSchedule(`unknown macro ${JSON.stringify(expression)} (expected one of ${[...MACROS.keys()].join(', ')})`);
    pattern = expanded;
  }
  const fields = pattern.split(' ');
  if (fields.length !== 5 && fields.length !== 6) throw invalidSchedule(`expected 5 fields (or 6 with a leading seconds field), got ${fields.length}`);
  const rules = FIELDS.slice(6 - fields.length);
  fields.forEach((field, i) => {
    const rule = rules[i];
    if (!rule) return;
    const upper = field.toUpperCase();
    if (!rule.chars.test(rule.names ? upper.replace(rule.names, '0') : upper)) throw invalidSchedule(`invalid ${rule.name} field ${JSON.stringify(field)}`);
    checkValues(rule, field);
  });
  const star = (fromEnd: number): boolean => /^[*?]/.test(fields[fields.length - fromEnd] ?? '');
  return { pattern, fixedTime: !star(5) && !star(4), dayAnd: star(3) || star(1) };
}

/**
 * Range-checks the numbers of one field before croner sees them: croner's messages quote its own
 * zero-based values (day-of-month 32 reads "day: 31"), so they would name a value the user never wrote.
 */
function checkValues(rule: FieldRule, field: string): void {
  const { name, min, max, maxStep } = rule;
  for (const item of field.split(',')) {
    // Names are valid values: stand in the smallest one, so only digits the user wrote are quoted.
    let body = rule.names ? item.toUpperCase().replace(rule.names, String(min)) : item.toUpperCase();
    if (name === 'day-of-week') {
      const hash = body.indexOf('#');
      if (hash >= 0) {
        const nth = body.slice(hash + 1);
        if (/^\d+$/.test(nth) && !(Number(nth) >= 1 && Number(nth) <= 5)) {
          throw invalidSchedule(`day-of-week nth weekday ${nth} in ${JSON.stringify(item)} is out of range 1–5 (or L for the last)`);
        }
        body = body.slice(0, hash);
      } else if (body.endsWith('L')) {
        body = body.slice(0, -1);
      }
    }
    const match = ITEM.exec(body);
    if (!match) continue; // a syntax error: croner names it
    for (const value of [match[1], match[2]]) {
      if (value !== undefined && !(Number(value) >= min && Number(value) <= max)) throw invalidSchedule(`${name} ${value} is out of range ${min}–${max}`);
    }
    const step = match[3];
    if (step !== undefined && !(Number(step) >= 1 && Number(step) <= maxStep)) throw invalidSchedule(`${name} step ${step} is out of range 1–${maxStep}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Searching. Ticks are whole seconds. A wall time is represented as ms "as if it were UTC".

const NTH = [1, 2, 4, 8, 16] as const;
/** Backward wall-time searches look this many days back (a little over the 5-year tick limit). */
const WALL_SEARCH_DAYS = 6 * 366;

function dayMatches(m: WallMatcher, year: number, month: number, day: number): boolean {
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const byDate = ((m.days >>> day) & 1) === 1 || (m.lastDay && day === lastDay);
  const spec = m.weekdays[new Date(Date.UTC(year, month, day)).getUTCDay()] ?? 0;
  const byWeekday = (spec & (NTH[Math.floor((day - 1) / 7)] ?? 0)) !== 0 || ((spec & 32) !== 0 && day + 7 > lastDay);
  return m.dayAnd ? byDate && byWeekday : byDate || byWeekday;
}

/** First second-of-day >= `from` (or last <= `from` when `backwards`) that matches the time fields. */
function timeOfDay(m: WallMatcher, from: number, backwards: boolean): number | null {
  const at = (list: readonly number[], i: number): number => list[backwards ? list.length - 1 - i : i] ?? 0;
  const beyond = (value: number, limit: number): boolean => (backwards ? value > limit : value < limit);
  const h0 = Math.floor(from / 3600);
  const m0 = Math.floor(from / 60) % 60;
  const s0 = from % 60;
  for (let i = 0; i < m.hours.length; i++) {
    const h = at(m.hours, i);
    if (beyond(h, h0)) continue;
    for (let j = 0; j < m.minutes.length; j++) {
      const mi = at(m.minutes, j);
      if (h === h0 && beyond(mi, m0)) continue;
      for (let k = 0; k < m.seconds.length; k++) {
        const s = at(m.seconds, k);
        if (h === h0 && mi === m0 && beyond(s, s0)) continue;
        return h * 3600 + mi * 60 + s;
      }
    }
  }
  return null;
}

/** Nearest matching wall time (ms, as if UTC) strictly after (dir 1) or before (dir -1) `wall`. */
function wallSearch(m: WallMatcher, wall: number, dir: 1 | -1, days = WALL_SEARCH_DAYS): number | null {
  let second = dir === 1 ? Math.floor(wall / SECOND_MS) + 1 : Math.ceil(wall / SECOND_MS) - 1;
  const stop = wall + dir * days * DAY_MS;
  for (;;) {
    const dayStart = Math.floor(second / 86_400) * DAY_MS;
    if (!(dir === 1 ? dayStart <= stop : dayStart + DAY_MS >= stop)) return null; // also stops on NaN
    const date = new Date(dayStart);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth();
    if (((m.months >>> month) & 1) === 0) {
      // Skip to the first second of the next month, or the last second of the previous one.
      second = (dir === 1 ? Date.UTC(year, month + 1, 1) : Date.UTC(year, month, 1) - SECOND_MS) / SECOND_MS;
      continue;
    }
    if (dayMatches(m, year, month, date.getUTCDate())) {
      const time = timeOfDay(m, second - dayStart / SECOND_MS, dir === -1);
      if (time !== null) return dayStart + time * SECOND_MS;
    }
    second = dir === 1 ? dayStart / SECOND_MS + 86_400 : dayStart / SECOND_MS - 1;
  }
}

function instantOf(date: Date, what: string): number {
  const t = date instanceof Date ? date.getTime() : Number.NaN;
  if (!(t >= MIN_INSTANT && t <= MAX_INSTANT)) throw new RangeError(`${what} must be a valid Date between the years 1000 and 9999`);
  return t;
}

function findNext(schedule: CronSchedule, from: number): number | null {
  const zone = zoneFor(schedule.timezone);
  // Ticks past MAX_INSTANT don't exist here: callers get the ticks before it, then null.
  const limit = Math.min(from + NEXT_SEARCH_LIMIT_MS, MAX_INSTANT);
  // Wall times are at most a day off their instants, so this many days cover the limit.
  const days = Math.ceil((limit - from) / DAY_MS) + 1;
  let t = Math.floor(from / SECOND_MS) * SECOND_MS; // looking for ticks > t
  let seg = segmentAt(zone, t);
  // The last search found no match in (knownLow, knownWall): reuse it while it covers `low`.
  let knownLow = Number.POSITIVE_INFINITY;
  let knownWall = Number.NEGATIVE_INFINITY;
  for (;;) {
    let low = t + seg.offset; // wall times > low, in this segment
    // Fixed-time job entering a spring-forward gap: wall times in the gap fire at its end.
    const gap = schedule.fixedTime && seg.start > t && seg.before < seg.offset;
    if (gap) low = seg.start + seg.before - SECOND_MS;
    // Fixed-time job after a fall-back: the repeated wall times already fired.
    if (schedule.fixedTime && seg.before > seg.offset) low = Math.max(low, seg.start + seg.before - SECOND_MS);
    const wall = low >= knownLow && low < knownWall ? knownWall : wallSearch(schedule.matcher, low, 1, days);
    if (wall === null) return null;
    [knownLow, knownWall] = [low, wall];
    const instant = gap && wall < seg.start + seg.offset ? seg.start : wall - seg.offset;
    if (instant < seg.end) return instant > limit ? null : instant;
    if (seg.end > limit) return null;
    // No wall time in (knownLow, knownWall) matches and UTC offsets are under a day, so no tick
    // falls at an instant in [knownLow + 1 day, knownWall - 1 day]: jump over the DST segments there
    // instead of computing each one (a rare schedule's next tick may be 40 years away: 40 ms cold).
    // Instants before knownLow + 1 day are walked: after a fall-back, earlier wall times come again.
    if (seg.end >= knownLow + DAY_MS && seg.end < knownWall - DAY_MS) {
      if (knownWall - DAY_MS > limit) return null;
      t = knownWall - DAY_MS;
      seg = segmentAt(zone, t);
      continue;
    }
    t = seg.end - SECOND_MS;
    seg = segmentAt(zone, seg.end);
  }
}

function findPrevious(schedule: CronSchedule, at: number): number | null {
  const zone = zoneFor(schedule.timezone);
  const limit = Math.max(at - PREVIOUS_SEARCH_LIMIT_MS, MIN_INSTANT);
  let t = Math.floor(at / SECOND_MS) * SECOND_MS + SECOND_MS; // looking for ticks < t
  let seg = segmentAt(zone, t - SECOND_MS);
  let knownHigh = Number.NEGATIVE_INFINITY; // no match in (knownWall, knownHigh)
  let knownWall = Number.POSITIVE_INFINITY;
  for (;;) {
    const high = t + seg.offset;
    const wall = high <= knownHigh && high > knownWall ? knownWall : wallSearch(schedule.matcher, high, -1);
    if (wall === null) return null;
    [knownHigh, knownWall] = [high, wall];
    let lowest = seg.start + seg.offset; // lowest wall time this segment covers
    if (schedule.fixedTime && seg.before > seg.offset) lowest = seg.start + seg.before;
    let instant: number | null = wall >= lowest ? wall - seg.offset : null;
    // No tick inside the segment: a fixed-time job may still fire at the end of a gap at its start.
    if (instant === null && schedule.fixedTime && seg.before < seg.offset && wall >= seg.start + seg.before) instant = seg.start;
    if (instant !== null) return instant < limit ? null : instant;
    if (seg.start <= limit) return null;
    t = seg.start;
    seg = segmentAt(zone, t - SECOND_MS);
  }
}

/** The first tick strictly after `from`, or null if there is none up to MAX_INSTANT. */
export function nextTick(schedule: CronSchedule, from: Date): Date | null {
  const tick = findNext(schedule, instantOf(from, 'from'));
  return tick === null ? null : new Date(tick);
}

/** The next `count` ticks strictly after `from`, as UTC Dates (fewer if MAX_INSTANT comes first). */
export function nextTicks(schedule: CronSchedule, from: Date, count: number): Date[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
  const ticks: Date[] = [];
  let cursor = instantOf(from, 'from');
  while (ticks.length < count) {
    const tick = findNext(schedule, cursor);
    if (tick === null) break;
    ticks.push(new Date(tick));
    cursor = tick;
  }
  return ticks;
}

/** The last tick at or before `at`, or null (search back at most ~5 years). */
export function previousTick(schedule: CronSchedule, at: Date): Date | null {
  const tick = findPrevious(schedule, instantOf(at, 'at'));
  return tick === null ? null : new Date(tick);
}

/** Local wall time of `at` in `timezone` as ISO-8601 with offset, e.g. 2026-03-29T03:00:00+02:00. */
export function formatLocal(at: Date, timezone: string): string {
  const zone = zoneFor(timezone);
  const t = Math.floor(instantOf(at, 'at') / SECOND_MS) * SECOND_MS;
  const offset = segmentAt(zone, t).offset;
  const abs = Math.abs(offset) / SECOND_MS;
  const pad = (n: number): string => String(n).padStart(2, '0');
  const seconds = abs % 60 === 0 ? '' : `:${pad(abs % 60)}`;
  const sign = offset < 0 ? '-' : '+';
  return `${new Date(t + offset).toISOString().slice(0, 19)}${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}${seconds}`;
}
