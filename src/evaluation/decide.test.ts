import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../monitors/schedule.js';
import { decide, EARLY_MARGIN_MS, earlyMargin, tickFor } from './decide.js';
import type { Blackout, Decision, EvaluatedEvent, EvaluatedMonitor, MonitorState, Occurrence, OccurrenceStatus } from './types.js';

// ---------------------------------------------------------------------------------------------
// Time: most cases live on Monday 2026-01-05 (UTC) and write times as 'HH:MM', 'HH:MM:SS' or
// 'HH:MM:SS.mmm'; anything else is a full ISO instant.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const TOLERANCE = 15 * SECOND;
const DAY = '2026-01-05';

function ms(at: string): number {
  const clock = /^\d{2}:\d{2}(:\d{2}(?:\.\d{3})?)?$/.exec(at);
  const t = Date.parse(clock ? `${DAY}T${at}${clock[1] ? '' : ':00'}Z` : at);
  if (Number.isNaN(t)) throw new Error(`bad time ${at}`);
  return t;
}
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const isoOf = (at: string | null | undefined): string | null => (at == null ? null : iso(ms(at)));

// ---------------------------------------------------------------------------------------------
// Builder: monitors, events, occurrences.

function cron(
  expression: string,
  opts: { tz?: string; maxDuration?: number; failureThreshold?: number; recoveryThreshold?: number } = {},
): EvaluatedMonitor {
  return {
    type: 'cron',
    schedule: parseSchedule(expression, opts.tz ?? 'UTC'),
    maxDuration: opts.maxDuration ?? 10 * MINUTE,
    failureThreshold: opts.failureThreshold ?? 1,
    recoveryThreshold: opts.recoveryThreshold ?? 1,
    paused: false,
  };
}

function heartbeat(opts: { maxDuration?: number; failureThreshold?: number; recoveryThreshold?: number } = {}): EvaluatedMonitor {
  return {
    type: 'heartbeat',
    schedule: null,
    maxDuration: opts.maxDuration ?? 5 * MINUTE,
    failureThreshold: opts.failureThreshold ?? 1,
    recoveryThreshold: opts.recoveryThreshold ?? 1,
    paused: false,
  };
}

interface EventSpec {
  readonly kind: EvaluatedEvent['kind'];
  readonly at: string;
  readonly digest: string | null;
}
const start = (at: string, digest: string | null = null): EventSpec => ({ kind: 'start', at, digest });
const finish = (at: string, digest: string | null = null): EventSpec => ({ kind: 'finish', at, digest });
const fail = (at: string, digest: string | null = null): EventSpec => ({ kind: 'fail', at, digest });
/** Heartbeats carry neither kind nor digest. */
const beat = (at: string): EventSpec => ({ kind: null, at, digest: null });

const NEW_STATE: MonitorState = {
  ticksThrough: null,
  armedFrom: null,
  armed: false,
  consecutiveFailures: 0,
  consecutiveSuccesses: 0,
  openIncident: null,
  lastSuccessAt: null,
  lastFailureAt: null,
};
/** An armed cron monitor whose ticks up to and including `tick` are already taken care of. */
const through = (tick: string): Partial<MonitorState> => ({ armed: true, ticksThrough: ms(tick) });

/** An occurrence as a case writes it (times as above) and as assertions compare it (ISO). */
interface OccSpec {
  readonly at: string;
  readonly status: OccurrenceStatus;
  readonly started?: string;
  readonly finished?: string;
}
interface OccView {
  expectedAt: string | null;
  status: OccurrenceStatus;
  startedAt: string | null;
  finishedAt: string | null;
}
const viewOfSpec = (o: OccSpec): OccView => ({ expectedAt: isoOf(o.at), status: o.status, startedAt: isoOf(o.started), finishedAt: isoOf(o.finished) });
const viewOf = (o: Occurrence): OccView => ({ expectedAt: iso(o.expectedAt), status: o.status, startedAt: iso(o.startedAt), finishedAt: iso(o.finishedAt) });

// ---------------------------------------------------------------------------------------------
// The evaluator loop in miniature: decide, apply, feed back.

interface Setup {
  readonly monitor: EvaluatedMonitor;
  readonly state?: Partial<MonitorState>;
  /** Occurrences already in the database (deadline = expectedAt + max_duration). */
  readonly occurrences?: readonly OccSpec[];
  /** When Vigil was down: [from, to). */
  readonly blackouts?: readonly (readonly [string, string])[];
}

interface World {
  monitor: EvaluatedMonitor;
  state: MonitorState;
  occurrences: Occurrence[];
  blackouts: Blackout[];
  nextCheckAt: number | null;
  /** Every incident change so far, as 'open:<reason>' or 'resolve'. */
  incidents: string[];
  last: Decision | null;
  nextOccurrenceId: number;
  nextEventId: number;
  nextIncidentId: number;
}

function world(setup: Setup): World {
  const maxDuration = setup.monitor.maxDuration;
  let id = 1;
  const occurrences = (setup.occurrences ?? []).map((o): Occurrence => ({
    id: id++,
    expectedAt: ms(o.at),
    deadline: ms(o.at) + maxDuration,
    status: o.status,
    startedAt: o.started ? ms(o.started) : null,
    finishedAt: o.finished ? ms(o.finished) : null,
    digest: null,
  }));
  return {
    monitor: setup.monitor,
    state: { ...NEW_STATE, ...setup.state },
    occurrences,
    blackouts: (setup.blackouts ?? []).map(([from, to]) => ({ from: ms(from), to: ms(to) })),
    nextCheckAt: null,
    incidents: [],
    last: null,
    nextOccurrenceId: id,
    nextEventId: 1,
    nextIncidentId: 1,
  };
}

interface StepInput {
  readonly now: number;
  readonly events?: readonly EventSpec[];
  readonly paused?: boolean;
  /** Un-pause with state.armedFrom = now, as the API does. */
  readonly resume?: boolean;
}

/** One evaluator pass: decide, check the decision's invariants, apply it. Returns this pass's incidents. */
function step(w: World, input: StepInput): string[] {
  const { now } = input;
  if (input.paused !== undefined) w.monitor = { ...w.monitor, paused: input.paused };
  if (input.resume) {
    w.monitor = { ...w.monitor, paused: false };
    w.state = { ...w.state, armedFrom: now };
  }
  const events: EvaluatedEvent[] = (input.events ?? []).map((e) => ({ id: w.nextEventId++, kind: e.kind, digest: e.digest, timestamp: ms(e.at) }));
  const before = w.occurrences;
  const stateBefore = w.state;
  const d = decide({ monitor: w.monitor, state: w.state, occurrences: before, events, now, tolerance: TOLERANCE, blackouts: w.blackouts });

  // Invariants of every decision.
  expect(d.occurrences.length).toBeGreaterThanOrEqual(before.length);
  d.occurrences.forEach((o, key) => {
    expect(o.key).toBe(key);
    const old = before[key];
    if (old) {
      expect(o.previousStatus).toBe(old.status);
      if (!o.changed) expect(viewOf(o)).toEqual(viewOf(old));
    } else {
      expect(o.changed).toBe(true);
      expect(o.id).toBeNull();
      expect(o.previousStatus).toBeNull();
    }
  });
  if (d.nextCheckAt !== null) expect(d.nextCheckAt).toBeGreaterThan(now);
  let open = stateBefore.openIncident !== null;
  const incidents = d.incidents.map((i) => {
    expect(d.occurrences[i.occurrenceKey]).toBeDefined();
    // Exactly one open per incident: never two opens without a resolve in between.
    expect(open).toBe(i.action === 'resolve');
    open = i.action === 'open';
    return i.action === 'open' ? `open:${i.reason}` : 'resolve';
  });
  expect(d.state.openIncident !== null).toBe(open);
  if (!d.state.armed) expect(incidents).toEqual([]);

  // Apply: changed occurrences replace or append; new ones get ids. The incident gets an id.
  const rows = [...before];
  for (const o of d.occurrences) {
    if (!o.changed) continue;
    const row: Occurrence = { id: o.id, expectedAt: o.expectedAt, deadline: o.deadline, status: o.status, startedAt: o.startedAt, finishedAt: o.finishedAt, digest: o.digest };
    if (o.key < rows.length) rows[o.key] = row;
    else {
      expect(o.key).toBe(rows.length);
      rows.push({ ...row, id: w.nextOccurrenceId++ });
    }
  }
  w.occurrences = rows;
  const openIncident = d.state.openIncident && d.state.openIncident.id < 0 ? { id: w.nextIncidentId++ } : d.state.openIncident;
  w.state = { ...d.state, openIncident };
  w.nextCheckAt = d.nextCheckAt;
  w.incidents.push(...incidents);
  w.last = d;
  return incidents;
}

interface StateSpec {
  armed?: boolean;
  failures?: number;
  successes?: number;
  openIncident?: boolean;
  lastSuccessAt?: string | null;
  lastFailureAt?: string | null;
}

interface Expectation {
  /** The full list of occurrences, in expectedAt order. */
  readonly occurrences?: readonly OccSpec[];
  /** Incident changes made by this pass (default: none). */
  readonly incidents?: readonly string[];
  readonly state?: StateSpec;
  readonly status?: Decision['status'];
  readonly nextCheckAt?: string | null;
  /** The pass changed nothing at all (duplicates). */
  readonly unchanged?: boolean;
}

interface Step {
  readonly now: string;
  readonly events?: readonly EventSpec[];
  readonly paused?: boolean;
  readonly resume?: boolean;
  readonly expect?: Expectation;
}

interface Case extends Setup {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Every incident change of the whole run (default: none). */
  readonly incidents?: readonly string[];
}

const sorted = (occurrences: readonly Occurrence[]): OccView[] =>
  [...occurrences].sort((a, b) => a.expectedAt - b.expectedAt).map(viewOf);

function check(w: World, e: Expectation, stepIncidents: string[], stateBefore: MonitorState, occurrencesBefore: Occurrence[]): void {
  const d = w.last!;
  if (e.occurrences) expect(sorted(w.occurrences)).toEqual(e.occurrences.map(viewOfSpec));
  expect(stepIncidents).toEqual(e.incidents ?? []);
  if (e.status !== undefined) expect(d.status).toBe(e.status);
  if (e.nextCheckAt !== undefined) expect(iso(d.nextCheckAt)).toBe(isoOf(e.nextCheckAt));
  if (e.state) {
    const s = e.state;
    const want: Record<string, unknown> = {};
    const got: Record<string, unknown> = {};
    const add = (key: string, expected: unknown, actual: unknown): void => {
      if (expected === undefined) return;
      want[key] = expected;
      got[key] = actual;
    };
    add('armed', s.armed, d.state.armed);
    add('failures', s.failures, d.state.consecutiveFailures);
    add('successes', s.successes, d.state.consecutiveSuccesses);
    add('openIncident', s.openIncident, d.state.openIncident !== null);
    add('lastSuccessAt', s.lastSuccessAt === undefined ? undefined : isoOf(s.lastSuccessAt), iso(d.state.lastSuccessAt));
    add('lastFailureAt', s.lastFailureAt === undefined ? undefined : isoOf(s.lastFailureAt), iso(d.state.lastFailureAt));
    expect(got).toEqual(want);
  }
  if (e.unchanged) {
    expect(d.occurrences.filter((o) => o.changed)).toEqual([]);
    expect(w.occurrences).toEqual(occurrencesBefore);
    expect(w.state).toEqual(stateBefore);
  }
}

/** Runs the steps in order, checking each step's expectations; returns the world after the last. */
function run(setup: Setup, steps: readonly Step[]): World {
  const w = world(setup);
  steps.forEach((s, i) => {
    const stateBefore = w.state;
    const occurrencesBefore = w.occurrences;
    const incidents = step(w, { now: ms(s.now), events: s.events ?? [], paused: s.paused, resume: s.resume });
    if (s.expect) {
      try {
        check(w, s.expect, incidents, stateBefore, occurrencesBefore);
      } catch (error) {
        if (error instanceof Error) error.message = `step ${i + 1} (now ${s.now}): ${error.message}`;
        throw error;
      }
    } else {
      // A step without expectations must at least not raise an incident.
      expect(incidents, `step ${i + 1} (now ${s.now})`).toEqual([]);
    }
  });
  return w;
}

function runCase(c: Case): World {
  const w = run(c, c.steps);
  expect(w.incidents).toEqual(c.incidents ?? []);
  return w;
}

/**
 * The evaluator's own loop: look at the monitor when events arrive, when nextCheckAt says so,
 * and (optionally) every `poll` ms besides; stop after `until`.
 */
function simulate(
  setup: Setup,
  arrivals: readonly { readonly at: number; readonly events: readonly EventSpec[] }[],
  until: number,
  poll?: number,
): World & { passes: { now: number; nextCheckAt: number | null }[] } {
  const w = world(setup);
  const passes: { now: number; nextCheckAt: number | null }[] = [];
  const queue = [...arrivals].sort((a, b) => a.at - b.at);
  let nextPoll = poll !== undefined && queue[0] ? queue[0].at + poll : Number.POSITIVE_INFINITY;
  for (;;) {
    const now = Math.min(queue[0]?.at ?? Number.POSITIVE_INFINITY, w.nextCheckAt ?? Number.POSITIVE_INFINITY, nextPoll);
    if (!(now <= until)) break;
    const events: EventSpec[] = [];
    while (queue[0] && queue[0].at <= now) events.push(...queue.shift()!.events);
    if (nextPoll <= now) nextPoll = now + poll!;
    const incidents = step(w, { now, events });
    passes.push({ now, nextCheckAt: w.nextCheckAt });
    expect(incidents, `pass at ${iso(now)}`).toEqual([]);
    expect(w.last!.occurrences.filter((o) => FAILED.includes(o.status)).map(viewOf), `pass at ${iso(now)}`).toEqual([]);
  }
  return { ...w, passes };
}
const FAILED: readonly OccurrenceStatus[] = ['late', 'missed', 'failed'];

// ---------------------------------------------------------------------------------------------
// Cron monitors. Unless a case says otherwise: hourly `0 * * * *` (UTC), max_duration 10 min,
// thresholds 1, tolerance 15 s; "through 09:00" = armed, the 09:00 tick already handled.

const hourly = cron('0 * * * *');
const every5 = cron('*/5 * * * *', { maxDuration: 12 * MINUTE });

const cronCases: Case[] = [
  {
    name: 'on time: the tick opens in its early margin, start and finish inside the window',
    monitor: hourly,
    state: through('09:00'),
    occurrences: [{ at: '09:00', status: 'success', started: '09:00:01', finished: '09:04' }],
    steps: [
      { now: '09:58', expect: { occurrences: [{ at: '09:00', status: 'success', started: '09:00:01', finished: '09:04' }], status: 'success', nextCheckAt: '10:10:15' } },
      { now: '09:59:30', expect: { status: 'running', nextCheckAt: '10:10:15' } },
      { now: '10:00:03', events: [start('10:00:02', 'r1')], expect: { status: 'running', nextCheckAt: '10:10:15' } },
      {
        now: '10:04:01',
        events: [finish('10:04', 'r1')],
        expect: {
          occurrences: [
            { at: '09:00', status: 'success', started: '09:00:01', finished: '09:04' },
            { at: '10:00', status: 'success', started: '10:00:02', finished: '10:04' },
          ],
          status: 'success',
          nextCheckAt: '11:10:15',
          state: { failures: 0, successes: 1, openIncident: false, lastSuccessAt: '10:04' },
        },
      },
      { now: '11:10:15', events: [finish('11:05')], expect: { status: 'success', nextCheckAt: '12:10:15', state: { successes: 2 } } },
    ],
  },
  {
    name: 'late: finish after the deadline, before the miss was declared',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:00:06', events: [start('10:00:05', 'r1')] },
      { now: '10:10:00', expect: { status: 'running' } },
      {
        now: '10:10:06',
        events: [finish('10:10:05', 'r1')],
        expect: {
          occurrences: [{ at: '10:00', status: 'late', started: '10:00:05', finished: '10:10:05' }],
          incidents: ['open:late'],
          status: 'late',
          nextCheckAt: '11:10:15',
          state: { failures: 1, successes: 0, openIncident: true, lastFailureAt: '10:10:05' },
        },
      },
    ],
    incidents: ['open:late'],
  },
  {
    name: 'late after missed: the late finish corrects the status but adds no second failure',
    monitor: cron('0 * * * *', { failureThreshold: 2 }),
    state: through('09:00'),
    steps: [
      { now: '10:00:06', events: [start('10:00:05', 'r1')] },
      { now: '10:10:15', expect: { occurrences: [{ at: '10:00', status: 'missed', started: '10:00:05' }], state: { failures: 1 } } },
      {
        now: '10:20:01',
        events: [finish('10:20', 'r1')],
        expect: { occurrences: [{ at: '10:00', status: 'late', started: '10:00:05', finished: '10:20' }], status: 'late', state: { failures: 1, openIncident: false } },
      },
      // Had the late finish counted again, this first miss of 11:00 would be the third failure.
      { now: '11:10:15', expect: { incidents: ['open:missed'], state: { failures: 2 } } },
    ],
    incidents: ['open:missed'],
  },
  {
    name: 'late after missed (finish without start): the latest unfinished occurrence becomes late, one incident',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:10:15', expect: { incidents: ['open:missed'], status: 'missed' } },
      {
        now: '10:30:01',
        events: [finish('10:30')],
        expect: { occurrences: [{ at: '10:00', status: 'late', finished: '10:30' }], state: { failures: 1, openIncident: true } },
      },
    ],
    incidents: ['open:missed'],
  },
  {
    name: 'missed: nothing by deadline + tolerance',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:10:14', expect: { occurrences: [{ at: '10:00', status: 'running' }], status: 'running', nextCheckAt: '10:10:15' } },
      {
        now: '10:10:15',
        expect: {
          occurrences: [{ at: '10:00', status: 'missed' }],
          incidents: ['open:missed'],
          status: 'missed',
          nextCheckAt: '11:10:15',
          state: { failures: 1, openIncident: true, lastFailureAt: '10:10' },
        },
      },
      { now: '11:10:15', expect: { status: 'missed', state: { failures: 2, openIncident: true } } },
    ],
    incidents: ['open:missed'],
  },
  {
    name: 'overlapping runs: */5 with max_duration 12 min, finishes in reverse order, each judged against its own tick',
    monitor: every5,
    state: through('09:55'),
    steps: [
      { now: '10:00:02', events: [start('10:00:01', 'a')] },
      { now: '10:05:02', events: [start('10:05:01', 'b')] },
      { now: '10:09:01', events: [finish('10:09', 'b')] },
      {
        now: '10:11:01',
        events: [finish('10:11', 'a')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', started: '10:00:01', finished: '10:11' },
            { at: '10:05', status: 'success', started: '10:05:01', finished: '10:09' },
            { at: '10:10', status: 'running' },
          ],
          status: 'running',
          nextCheckAt: '10:22:15',
          state: { successes: 2, failures: 0 },
        },
      },
    ],
  },
  {
    name: 'overlapping runs: both finishes in one batch, reverse order; the first run turns late on its own deadline',
    monitor: every5,
    state: through('09:55'),
    steps: [
      { now: '10:05:02', events: [start('10:00:01', 'a'), start('10:05:01', 'b')] },
      {
        now: '10:12:30',
        events: [finish('10:12:20', 'a'), finish('10:09', 'b')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'late', started: '10:00:01', finished: '10:12:20' },
            { at: '10:05', status: 'success', started: '10:05:01', finished: '10:09' },
            { at: '10:10', status: 'running' },
          ],
          incidents: ['open:late'],
        },
      },
    ],
    incidents: ['open:late'],
  },
  {
    name: 'start without finish: missed with reason timeout',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:00:06', events: [start('10:00:05', 'r1')], expect: { status: 'running', nextCheckAt: '10:10:15' } },
      {
        now: '10:10:15',
        expect: { occurrences: [{ at: '10:00', status: 'missed', started: '10:00:05' }], incidents: ['open:timeout'], status: 'missed' },
      },
    ],
    incidents: ['open:timeout'],
  },
  {
    name: 'finish without start: counts for the window it falls in',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      {
        now: '10:03:01',
        events: [finish('10:03')],
        expect: { occurrences: [{ at: '10:00', status: 'success', finished: '10:03' }], status: 'success', state: { successes: 1 } },
      },
    ],
  },
  {
    name: 'finish without start: overlapping windows, the oldest open occurrence takes it',
    monitor: every5,
    state: through('09:55'),
    steps: [
      { now: '10:07:01', events: [finish('10:07')] },
      {
        now: '10:09:01',
        events: [finish('10:09')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', finished: '10:07' },
            { at: '10:05', status: 'success', finished: '10:09' },
            { at: '10:10', status: 'running' },
          ],
        },
      },
    ],
  },
  {
    name: 'duplicates (cron): the same start and finish twice in one batch count once',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      {
        now: '10:04:01',
        events: [start('10:00:05', 'r1'), start('10:00:05', 'r1'), finish('10:04', 'r1'), finish('10:04', 'r1')],
        expect: { occurrences: [{ at: '10:00', status: 'success', started: '10:00:05', finished: '10:04' }], state: { successes: 1 } },
      },
    ],
  },
  {
    name: 'duplicates (cron): re-delivered start and finish in later passes change nothing',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:00:06', events: [start('10:00:05', 'r1')] },
      { now: '10:00:07', events: [start('10:00:05', 'r1')], expect: { unchanged: true } },
      { now: '10:04:01', events: [finish('10:04', 'r1')], expect: { state: { successes: 1 } } },
      { now: '10:04:02', events: [finish('10:04', 'r1'), start('10:00:05', 'r1')], expect: { unchanged: true } },
      { now: '10:05', events: [finish('10:04', 'r1')], expect: { unchanged: true, state: { successes: 1 } } },
    ],
  },
  {
    name: 'duplicates (cron): a finish without digest delivered twice counts once',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:04:01', events: [finish('10:04'), finish('10:04')], expect: { state: { successes: 1 } } },
      { now: '10:04:30', events: [finish('10:04')], expect: { unchanged: true, occurrences: [{ at: '10:00', status: 'success', finished: '10:04' }] } },
    ],
  },
  {
    name: 'duplicates (cron): a duplicate of the finish that closed a missed window late adds nothing',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:10:15', expect: { incidents: ['open:missed'] } },
      { now: '10:20:01', events: [finish('10:20', 'r1')], expect: { occurrences: [{ at: '10:00', status: 'late', finished: '10:20' }] } },
      { now: '10:20:02', events: [finish('10:20', 'r1')], expect: { unchanged: true, state: { failures: 1 } } },
    ],
    incidents: ['open:missed'],
  },
  {
    name: 'out-of-order arrival: finish listed before its start in the same batch',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      {
        now: '10:04:01',
        events: [finish('10:04', 'r1'), start('10:00:05', 'r1')],
        expect: { occurrences: [{ at: '10:00', status: 'success', started: '10:00:05', finished: '10:04' }], state: { successes: 1 } },
      },
    ],
  },
  {
    name: 'out-of-order arrival: finish in one pass, its start in a later pass',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:04:01', events: [finish('10:04', 'r1')], expect: { occurrences: [{ at: '10:00', status: 'success', finished: '10:04' }] } },
      {
        now: '10:06',
        events: [start('10:00:05', 'r1')],
        expect: { occurrences: [{ at: '10:00', status: 'success', started: '10:00:05', finished: '10:04' }], state: { successes: 1 }, status: 'success' },
      },
    ],
  },
  {
    name: 'a batch arriving within the tolerance after the deadline: no failure',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:10', expect: { status: 'running', nextCheckAt: '10:10:15' } },
      { now: '10:10:14', expect: { status: 'running' } },
      {
        now: '10:10:14.500',
        events: [start('10:00:05', 'r1'), finish('10:09:50', 'r1')],
        expect: { occurrences: [{ at: '10:00', status: 'success', started: '10:00:05', finished: '10:09:50' }], state: { failures: 0, successes: 1 } },
      },
      { now: '10:10:15', expect: { unchanged: true } },
    ],
  },
  {
    name: 'an event arriving after deadline + tolerance with a timestamp inside the window corrects missed to success and resolves',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:10:15', expect: { incidents: ['open:missed'], state: { failures: 1 } } },
      {
        now: '10:12',
        events: [finish('10:08')],
        expect: {
          occurrences: [{ at: '10:00', status: 'success', finished: '10:08' }],
          incidents: ['resolve'],
          status: 'success',
          state: { failures: 0, successes: 1, openIncident: false, lastSuccessAt: '10:08', lastFailureAt: '10:10' },
        },
      },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'a delayed correction of an older miss does not resolve while a newer occurrence is missed (successes must be consecutive)',
    monitor: cron('0 * * * *', { failureThreshold: 3 }),
    state: through('09:00'),
    steps: [
      { now: '10:10:15', expect: { state: { failures: 1 } } },
      { now: '11:10:15', expect: { state: { failures: 2 } } },
      {
        now: '11:20',
        events: [finish('10:05')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', finished: '10:05' },
            { at: '11:00', status: 'missed' },
          ],
          state: { failures: 2, successes: 0 },
        },
      },
      { now: '12:10:15', expect: { incidents: ['open:missed'], state: { failures: 3 } } },
      { now: '12:30', events: [finish('11:06')], expect: { state: { failures: 3, openIncident: true } } },
      { now: '13:05:01', events: [finish('13:05')], expect: { incidents: ['resolve'] } },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'overlapping runs: the newer run failed, the older one finishing fine afterwards does not resolve',
    monitor: every5,
    state: through('09:55'),
    steps: [
      { now: '10:05:02', events: [start('10:00:01', 'a'), start('10:05:01', 'b')] },
      { now: '10:06:01', events: [fail('10:06', 'b')], expect: { incidents: ['open:failed'] } },
      {
        now: '10:08:01',
        events: [finish('10:08', 'a')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', started: '10:00:01', finished: '10:08' },
            { at: '10:05', status: 'failed', started: '10:05:01', finished: '10:06' },
          ],
          state: { failures: 1, openIncident: true },
        },
      },
      { now: '10:14:01', events: [finish('10:14')], expect: { incidents: ['resolve'] } },
    ],
    incidents: ['open:failed', 'resolve'],
  },
  {
    name: 'a delayed finish for a started run: timeout corrected to success, incident resolves',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:00:06', events: [start('10:00:05', 'r1')] },
      { now: '10:10:15', expect: { incidents: ['open:timeout'] } },
      {
        now: '10:11',
        events: [finish('10:09', 'r1')],
        expect: { occurrences: [{ at: '10:00', status: 'success', started: '10:00:05', finished: '10:09' }], incidents: ['resolve'] },
      },
    ],
    incidents: ['open:timeout', 'resolve'],
  },
  {
    name: 'clock skew: a finish 30 s before the tick counts for that tick',
    monitor: hourly,
    state: through('09:00'),
    occurrences: [{ at: '09:00', status: 'success', finished: '09:03' }],
    steps: [
      {
        now: '09:59:31',
        events: [finish('09:59:30')],
        expect: {
          occurrences: [
            { at: '09:00', status: 'success', finished: '09:03' },
            { at: '10:00', status: 'success', finished: '09:59:30' },
          ],
          nextCheckAt: '11:10:15',
        },
      },
      { now: '10:10:15', expect: { unchanged: true } },
    ],
  },
  {
    name: 'clock skew: a start 40 s before the tick belongs to that tick',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '09:59:21', events: [start('09:59:20', 'r1')] },
      { now: '10:02:01', events: [finish('10:02', 'r1')], expect: { occurrences: [{ at: '10:00', status: 'success', started: '09:59:20', finished: '10:02' }] } },
    ],
  },
  {
    name: 'clock skew: 90 s early is beyond the 60 s margin and does not count',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '09:58:31', events: [finish('09:58:30')], expect: { occurrences: [] } },
      { now: '10:10:15', expect: { occurrences: [{ at: '10:00', status: 'missed' }], incidents: ['open:missed'] } },
    ],
    incidents: ['open:missed'],
  },
  {
    name: 'early margin capped at half the gap: */10 * * * * * has a 5 s margin',
    monitor: cron('*/10 * * * * *', { maxDuration: 8 * SECOND }),
    state: through('10:00:00'),
    steps: [
      // 6 s before 10:00:20 is outside its 5 s margin: this start is 10:00:10's.
      { now: '10:00:14.500', events: [start('10:00:14', 'a')] },
      // 4 s before 10:00:30 is inside its margin: this start is 10:00:30's.
      { now: '10:00:26.500', events: [start('10:00:26', 'b')] },
      { now: '10:00:27', events: [finish('10:00:17', 'a'), finish('10:00:27', 'b')] },
      // A finish without start 5 s before 10:00:40 (on the margin's edge) is 10:00:40's; 10:00:20 gets one inside its window.
      {
        now: '10:00:36',
        events: [finish('10:00:21'), finish('10:00:35')],
        expect: {
          occurrences: [
            { at: '10:00:10', status: 'success', started: '10:00:14', finished: '10:00:17' },
            { at: '10:00:20', status: 'success', finished: '10:00:21' },
            { at: '10:00:30', status: 'success', started: '10:00:26', finished: '10:00:27' },
            { at: '10:00:40', status: 'success', finished: '10:00:35' },
          ],
          state: { successes: 4 },
        },
      },
    ],
  },
  {
    name: 'thresholds: failure_threshold 3 opens on the third miss, recovery_threshold 2 resolves on the second success',
    monitor: cron('0 * * * *', { failureThreshold: 3, recoveryThreshold: 2 }),
    state: through('09:00'),
    steps: [
      { now: '10:10:15', expect: { state: { failures: 1, openIncident: false } } },
      { now: '11:10:15', expect: { state: { failures: 2, openIncident: false } } },
      { now: '12:10:15', expect: { incidents: ['open:missed'], state: { failures: 3, openIncident: true } } },
      { now: '13:05:01', events: [finish('13:05')], expect: { state: { failures: 0, successes: 1, openIncident: true } } },
      { now: '14:10:15', expect: { state: { failures: 1, successes: 0, openIncident: true } } },
      { now: '15:05:01', events: [finish('15:05')], expect: { state: { successes: 1, openIncident: true } } },
      { now: '16:05:01', events: [finish('16:05')], expect: { incidents: ['resolve'], state: { failures: 0, successes: 2, openIncident: false } } },
      { now: '17:10:15', expect: { state: { failures: 1, openIncident: false } } },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'pause/resume: the running occurrence becomes unknown, nothing is judged while paused or before the resume',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:00:06', events: [start('10:00:05', 'r1')] },
      {
        now: '10:02',
        paused: true,
        expect: { occurrences: [{ at: '10:00', status: 'unknown', started: '10:00:05' }], status: 'paused', nextCheckAt: null },
      },
      // While paused: no new occurrences, no alerts, no wake-up.
      { now: '11:30', expect: { occurrences: [{ at: '10:00', status: 'unknown', started: '10:00:05' }], status: 'paused', nextCheckAt: null } },
      { now: '12:05', expect: { status: 'paused', nextCheckAt: null, unchanged: true } },
      // Resumed at 12:20: 12:00 is not judged; 13:00 is the next tick.
      { now: '12:20', resume: true, expect: { occurrences: [{ at: '10:00', status: 'unknown', started: '10:00:05' }], nextCheckAt: '13:10:15' } },
      // The run started before the pause finishes after the resume: recorded, but it judges nothing.
      {
        now: '12:25:01',
        events: [finish('12:25', 'r1')],
        expect: { occurrences: [{ at: '10:00', status: 'unknown', started: '10:00:05', finished: '12:25' }], state: { failures: 0 } },
      },
      // A finish without digest at an odd time after the resume does not judge the paused window either.
      { now: '12:30:01', events: [finish('12:30')], expect: { state: { failures: 0 } } },
      { now: '13:04:01', events: [finish('13:04')] },
      {
        now: '14:10:15',
        events: [finish('14:03')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'unknown', started: '10:00:05', finished: '12:25' },
            { at: '13:00', status: 'success', finished: '13:04' },
            { at: '14:00', status: 'success', finished: '14:03' },
          ],
          state: { failures: 0, successes: 2 },
        },
      },
    ],
  },
  {
    name: 'pause/resume: a tick missed before the pause keeps its incident; resume does not re-alert',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:10:15', expect: { incidents: ['open:missed'] } },
      { now: '10:30', paused: true, expect: { status: 'paused', nextCheckAt: null } },
      { now: '15:30', resume: true, expect: { nextCheckAt: '16:10:15', occurrences: [{ at: '10:00', status: 'missed' }] } },
      { now: '16:05:01', events: [finish('16:05')], expect: { incidents: ['resolve'] } },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'kind=fail: failed at once with reason failed, without waiting for the deadline',
    monitor: hourly,
    state: through('09:00'),
    steps: [
      { now: '10:00:06', events: [start('10:00:05', 'r1')] },
      {
        now: '10:01:01',
        events: [fail('10:01', 'r1')],
        expect: {
          occurrences: [{ at: '10:00', status: 'failed', started: '10:00:05', finished: '10:01' }],
          incidents: ['open:failed'],
          status: 'failed',
          nextCheckAt: '11:10:15',
          state: { failures: 1, lastFailureAt: '10:01' },
        },
      },
      { now: '10:10:15', expect: { unchanged: true } },
      { now: '11:02:01', events: [finish('11:02')], expect: { incidents: ['resolve'] } },
    ],
    incidents: ['open:failed', 'resolve'],
  },
  {
    name: 'kind=fail without a start',
    monitor: hourly,
    state: through('09:00'),
    steps: [{ now: '10:03:01', events: [fail('10:03')], expect: { occurrences: [{ at: '10:00', status: 'failed', finished: '10:03' }], incidents: ['open:failed'] } }],
    incidents: ['open:failed'],
  },
  {
    name: 'new monitor: never alerts, however much time passes',
    monitor: hourly,
    steps: [
      { now: '10:00', expect: { occurrences: [], status: 'new', nextCheckAt: null, state: { armed: false } } },
      { now: '10:10:15', expect: { occurrences: [], status: 'new', nextCheckAt: null } },
      { now: '2026-01-09T12:00:00Z', expect: { occurrences: [], status: 'new', nextCheckAt: null, state: { armed: false, failures: 0 } } },
    ],
  },
  {
    name: 'first manual run at an odd hour arms the monitor without a failure; the next tick is judged',
    monitor: cron('0 3 * * *', { maxDuration: 30 * MINUTE }),
    steps: [
      { now: '14:00:01', events: [start('14:00', 'manual')], expect: { occurrences: [], state: { armed: true, failures: 0 }, nextCheckAt: '2026-01-06T03:30:15Z' } },
      { now: '14:05:01', events: [finish('14:05', 'manual')], expect: { occurrences: [], state: { armed: true, failures: 0, successes: 0 }, nextCheckAt: '2026-01-06T03:30:15Z' } },
      {
        now: '2026-01-06T03:10:01Z',
        events: [finish('2026-01-06T03:10:00Z')],
        expect: { occurrences: [{ at: '2026-01-06T03:00:00Z', status: 'success', finished: '2026-01-06T03:10:00Z' }], status: 'success' },
      },
      { now: '2026-01-07T03:30:15Z', expect: { incidents: ['open:missed'] } },
    ],
    incidents: ['open:missed'],
  },
  {
    name: 'first event a finish at an odd hour (no start): no failure',
    monitor: cron('0 3 * * *', { maxDuration: 30 * MINUTE }),
    steps: [
      { now: '03:45:01', events: [finish('03:45')], expect: { occurrences: [], state: { armed: true, failures: 0 } } },
      { now: '2026-01-06T03:30:14Z', expect: { occurrences: [{ at: '2026-01-06T03:00:00Z', status: 'running' }] } },
    ],
  },
  {
    name: 'first event inside a window is judged',
    monitor: cron('0 3 * * *', { maxDuration: 30 * MINUTE }),
    steps: [{ now: '03:20:01', events: [finish('03:20')], expect: { occurrences: [{ at: '03:00', status: 'success', finished: '03:20' }], state: { armed: true, successes: 1 } } }],
  },
  {
    name: 'blackout: a window that overlaps the outage and has no finish becomes unknown and sends nothing',
    monitor: hourly,
    state: through('09:00'),
    blackouts: [['10:05', '10:30']],
    steps: [
      { now: '10:02', expect: { status: 'running' } },
      { now: '10:30', expect: { occurrences: [{ at: '10:00', status: 'unknown' }], status: 'unknown', nextCheckAt: '11:10:15', state: { failures: 0 } } },
      // A finish after the unknown window (the job ran long, or by hand) does not turn it into a failure.
      { now: '10:40:01', events: [finish('10:40')], expect: { occurrences: [{ at: '10:00', status: 'unknown', finished: '10:40' }], state: { failures: 0 } } },
      { now: '11:10:15', expect: { incidents: ['open:missed'] } },
    ],
    incidents: ['open:missed'],
  },
  {
    name: 'blackout: only the tolerance after the deadline overlaps the outage: still unknown',
    monitor: hourly,
    state: through('09:00'),
    blackouts: [['10:10:05', '10:20']],
    steps: [{ now: '10:20', expect: { occurrences: [{ at: '10:00', status: 'unknown' }] } }],
  },
  {
    name: 'blackout: a delayed finish inside the window still counts as a success',
    monitor: hourly,
    state: through('09:00'),
    blackouts: [['10:05', '10:30']],
    steps: [
      { now: '10:30', expect: { occurrences: [{ at: '10:00', status: 'unknown' }] } },
      { now: '10:31', events: [finish('10:04')], expect: { occurrences: [{ at: '10:00', status: 'success', finished: '10:04' }], state: { successes: 1 } } },
    ],
  },
];

describe('decide: cron monitors', () => {
  it.each(cronCases)('$name', (c) => {
    runCase(c);
  });

  it('windows far longer than the gap: every tick whose window is open gets its occurrence, even more than 1000 at once', () => {
    // `* * * * * *` with max_duration 30 min: at 10:20, the 1200 ticks since 10:00:00 are all open.
    const w = run({ monitor: cron('* * * * * *', { maxDuration: 30 * MINUTE }), state: through('10:00:00') }, [
      { now: '10:20:00', expect: { status: 'running', nextCheckAt: '10:30:16' } },
    ]);
    const ticks = w.occurrences.map((o) => o.expectedAt).sort((a, b) => a - b);
    expect(ticks.length).toBe(1200);
    expect(iso(ticks[0]!)).toBe(isoOf('10:00:01'));
    expect(iso(ticks.at(-1)!)).toBe(isoOf('10:20:00'));
    const gaps = ticks.slice(1).filter((t, i) => t - ticks[i]! !== SECOND);
    expect(gaps).toEqual([]);
    expect(new Set(w.occurrences.map((o) => o.status))).toEqual(new Set(['running']));
  });

  it('a 60-day outage: the ticks that fell in it are unknown (bounded work), nothing is sent, the next tick is judged', () => {
    const back = '2026-03-06T10:30:00Z';
    const w = run({ monitor: hourly, state: through('10:00'), blackouts: [['10:30', back]] }, [{ now: back, expect: { nextCheckAt: '2026-03-06T11:10:15Z' } }]);
    expect(w.occurrences.length).toBeGreaterThan(0);
    expect(w.occurrences.length).toBeLessThanOrEqual(1001);
    expect(new Set(w.occurrences.map((o) => o.status))).toEqual(new Set(['unknown']));
    step(w, { now: ms('2026-03-06T11:10:15Z') });
    expect(w.incidents).toEqual(['open:missed']);
    expect(viewOf(w.occurrences.at(-1)!)).toEqual({ expectedAt: isoOf('2026-03-06T11:00:00Z'), status: 'missed', startedAt: null, finishedAt: null });
  });

  it('the early margin is 60 s, or half the gap between ticks if that is less', () => {
    expect(EARLY_MARGIN_MS).toBe(60_000);
    expect(earlyMargin(parseSchedule('0 * * * *'), ms('10:00'))).toBe(60_000);
    expect(earlyMargin(parseSchedule('* * * * *'), ms('10:00'))).toBe(30_000);
    expect(earlyMargin(parseSchedule('*/10 * * * * *'), ms('10:00'))).toBe(5_000);
    const every10s = parseSchedule('*/10 * * * * *');
    expect(iso(tickFor(every10s, ms('10:00:14')))).toBe(isoOf('10:00:10'));
    expect(iso(tickFor(every10s, ms('10:00:15')))).toBe(isoOf('10:00:20'));
  });
});

// ---------------------------------------------------------------------------------------------
// Heartbeat monitors: max_duration 5 min unless said otherwise.

const hb = heartbeat();

const heartbeatCases: Case[] = [
  {
    name: 'heartbeat on time: each beat closes the previous occurrence as success',
    monitor: hb,
    steps: [
      { now: '10:00:01', events: [beat('10:00')], expect: { occurrences: [{ at: '10:00', status: 'running' }], status: 'running', nextCheckAt: '10:05:15', state: { armed: true } } },
      { now: '10:03:01', events: [beat('10:03')], expect: { nextCheckAt: '10:08:15' } },
      {
        now: '10:07:01',
        events: [beat('10:07')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', finished: '10:03' },
            { at: '10:03', status: 'success', finished: '10:07' },
            { at: '10:07', status: 'running' },
          ],
          state: { successes: 2, failures: 0 },
          nextCheckAt: '10:12:15',
        },
      },
    ],
  },
  {
    name: 'heartbeat silent: missed, incident; the next beat resolves it',
    monitor: hb,
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:03:01', events: [beat('10:03')] },
      { now: '10:08:14', expect: { status: 'running' } },
      { now: '10:08:15', expect: { incidents: ['open:missed'], status: 'missed', nextCheckAt: null, state: { failures: 1, openIncident: true } } },
      { now: '11:00', expect: { unchanged: true, nextCheckAt: null } },
      {
        now: '11:20:01',
        events: [beat('11:20')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', finished: '10:03' },
            { at: '10:03', status: 'missed' },
            { at: '11:20', status: 'running' },
          ],
          incidents: ['resolve'],
          status: 'running',
          nextCheckAt: '11:25:15',
          state: { failures: 0, successes: 1, openIncident: false },
        },
      },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'heartbeat: a beat after max_duration but before the miss was declared is a miss and a recovery at once',
    monitor: hb,
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      {
        now: '10:05:11',
        events: [beat('10:05:10')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'missed', finished: '10:05:10' },
            { at: '10:05:10', status: 'running' },
          ],
          incidents: ['open:missed', 'resolve'],
        },
      },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'heartbeat: a delayed beat inside the window corrects the miss (the only beat since)',
    monitor: hb,
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:05:15', expect: { incidents: ['open:missed'] } },
      {
        now: '10:06',
        events: [beat('10:04')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', finished: '10:04' },
            { at: '10:04', status: 'running' },
          ],
          incidents: ['resolve'],
          state: { failures: 0, successes: 1 },
          nextCheckAt: '10:09:15',
        },
      },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'heartbeat: an out-of-order beat, older than the latest one, corrects the miss',
    monitor: heartbeat({ recoveryThreshold: 2 }),
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:05:15', expect: { incidents: ['open:missed'] } },
      { now: '10:07:01', events: [beat('10:07')], expect: { state: { successes: 1, openIncident: true } } },
      {
        now: '10:08',
        events: [beat('10:04')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'success', finished: '10:04' },
            { at: '10:07', status: 'running' },
          ],
          incidents: ['resolve'],
          state: { successes: 2 },
        },
      },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'heartbeat duplicates: the same beat twice in one batch and again later changes nothing',
    monitor: hb,
    steps: [
      { now: '10:00:01', events: [beat('10:00'), beat('10:00')], expect: { occurrences: [{ at: '10:00', status: 'running' }] } },
      { now: '10:00:02', events: [beat('10:00')], expect: { unchanged: true } },
      { now: '10:03:01', events: [beat('10:03'), beat('10:03')], expect: { state: { successes: 1 } } },
      {
        now: '10:04',
        events: [beat('10:03'), beat('10:00')],
        expect: {
          unchanged: true,
          occurrences: [
            { at: '10:00', status: 'success', finished: '10:03' },
            { at: '10:03', status: 'running' },
          ],
        },
      },
    ],
  },
  {
    name: 'heartbeat out-of-order in one batch: beats are ordered by timestamp',
    monitor: hb,
    steps: [
      {
        now: '10:06',
        events: [beat('10:05'), beat('10:01'), beat('10:03')],
        expect: {
          occurrences: [
            { at: '10:01', status: 'success', finished: '10:03' },
            { at: '10:03', status: 'success', finished: '10:05' },
            { at: '10:05', status: 'running' },
          ],
          state: { successes: 2 },
        },
      },
    ],
  },
  {
    name: 'heartbeat thresholds: a beat after a silence is a recovery, so silences separated by beats never add up to failure_threshold 3',
    monitor: heartbeat({ failureThreshold: 3 }),
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:05:15', expect: { state: { failures: 1 } } },
      { now: '10:10:01', events: [beat('10:10')], expect: { state: { failures: 0, successes: 1 } } },
      { now: '10:15:15', expect: { state: { failures: 1 } } },
      { now: '10:20:01', events: [beat('10:20')] },
    ],
  },
  {
    name: 'heartbeat thresholds: a silence of three max_durations is three failed windows, opening with failure_threshold 3',
    monitor: heartbeat({ failureThreshold: 3 }),
    incidents: ['open:missed', 'resolve'],
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:05:15', expect: { state: { failures: 1 }, incidents: [], status: 'missed', nextCheckAt: '10:10:15' } },
      { now: '10:10:15', expect: { state: { failures: 2 }, incidents: [], nextCheckAt: '10:15:15' } },
      {
        now: '10:15:15',
        expect: {
          occurrences: [
            { at: '10:00', status: 'missed' },
            { at: '10:05', status: 'missed' },
            { at: '10:10', status: 'missed' },
          ],
          state: { failures: 3 },
          incidents: ['open:missed'],
          nextCheckAt: null,
        },
      },
      { now: '11:00', expect: { unchanged: true, incidents: [] } },
      { now: '11:00:01', events: [beat('11:00')], expect: { incidents: ['resolve'] } },
    ],
  },
  {
    name: 'heartbeat pause/resume: unknown while paused, a beat expected within max_duration of the resume',
    monitor: hb,
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:02', paused: true, expect: { occurrences: [{ at: '10:00', status: 'unknown' }], status: 'paused', nextCheckAt: null } },
      { now: '12:00', expect: { status: 'paused', nextCheckAt: null, unchanged: true } },
      {
        now: '12:30',
        resume: true,
        expect: {
          occurrences: [
            { at: '10:00', status: 'unknown' },
            { at: '12:30', status: 'running' },
          ],
          nextCheckAt: '12:35:15',
        },
      },
      { now: '12:35:15', expect: { incidents: ['open:missed'] } },
      { now: '12:40:01', events: [beat('12:40')], expect: { incidents: ['resolve'] } },
    ],
    incidents: ['open:missed', 'resolve'],
  },
  {
    name: 'heartbeat pause/resume: a beat soon after the resume is a success',
    monitor: hb,
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:02', paused: true },
      { now: '12:30', resume: true },
      {
        now: '12:33:01',
        events: [beat('12:33')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'unknown' },
            { at: '12:30', status: 'success', finished: '12:33' },
            { at: '12:33', status: 'running' },
          ],
          state: { failures: 0, successes: 1 },
        },
      },
    ],
  },
  {
    name: 'heartbeat new monitor: never alerts',
    monitor: hb,
    steps: [
      { now: '10:00', expect: { status: 'new', nextCheckAt: null, occurrences: [] } },
      { now: '2026-01-09T10:00:00Z', expect: { status: 'new', nextCheckAt: null, occurrences: [], state: { armed: false } } },
    ],
  },
  {
    name: 'heartbeat blackout: judged after the outage, the window becomes unknown; a beat is expected within max_duration of Vigil coming back',
    monitor: hb,
    blackouts: [['10:02', '10:20']],
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      {
        now: '10:20',
        expect: {
          occurrences: [
            { at: '10:00', status: 'unknown' },
            { at: '10:20', status: 'running' },
          ],
          status: 'running',
          nextCheckAt: '10:25:15',
        },
      },
      {
        now: '10:20:31',
        events: [beat('10:20:30')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'unknown' },
            { at: '10:20', status: 'success', finished: '10:20:30' },
            { at: '10:20:30', status: 'running' },
          ],
          incidents: [],
          state: { failures: 0 },
          nextCheckAt: '10:25:45',
        },
      },
    ],
  },
  {
    name: 'heartbeat blackout, no beat afterwards: the process died during the outage, so it alerts max_duration after Vigil is back',
    monitor: hb,
    incidents: ['open:missed'],
    blackouts: [['10:02', '10:20']],
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      { now: '10:20', expect: { incidents: [], nextCheckAt: '10:25:15' } },
      {
        now: '10:25:15',
        expect: {
          occurrences: [
            { at: '10:00', status: 'unknown' },
            { at: '10:20', status: 'missed' },
          ],
          incidents: ['open:missed'],
          status: 'missed',
        },
      },
      { now: '12:00', expect: { incidents: [], status: 'missed' } },
    ],
  },
  {
    name: 'heartbeat blackout: the first beat back arrives before the window was judged: unknown, nothing sent',
    monitor: hb,
    blackouts: [['10:02', '10:20']],
    steps: [
      { now: '10:00:01', events: [beat('10:00')] },
      {
        now: '10:20:31',
        events: [beat('10:20:30')],
        expect: {
          occurrences: [
            { at: '10:00', status: 'unknown', finished: '10:20:30' },
            { at: '10:20:30', status: 'running' },
          ],
          state: { failures: 0 },
        },
      },
    ],
  },
];

describe('decide: heartbeat monitors', () => {
  it.each(heartbeatCases)('$name', (c) => {
    runCase(c);
  });
});

// ---------------------------------------------------------------------------------------------
// DST: a job that finishes at every tick, evaluated the way the evaluator runs (on arrival, at
// nextCheckAt, and on a regular poll). No false miss, no double occurrence, no incident.

interface DstCase {
  readonly name: string;
  readonly expression: string;
  readonly tz: string;
  readonly maxDuration: number;
  readonly poll: number;
  /** Every tick in the simulated stretch, in order (the simulation starts at the first). */
  readonly ticks: readonly string[];
}

const hourlyTicks = (from: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => new Date(ms(from) + i * HOUR).toISOString());

const dstCases: DstCase[] = [
  {
    name: 'daily 30 2 * * * Europe/Amsterdam across spring forward (2026-03-29: 02:30 does not exist, runs at 03:00 CEST)',
    expression: '30 2 * * *',
    tz: 'Europe/Amsterdam',
    maxDuration: 30 * MINUTE,
    poll: 6 * HOUR,
    ticks: ['2026-03-27T01:30:00.000Z', '2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z'],
  },
  {
    name: 'daily 30 2 * * * Europe/Amsterdam across fall back (2026-10-25: 02:30 happens twice, runs once)',
    expression: '30 2 * * *',
    tz: 'Europe/Amsterdam',
    maxDuration: 30 * MINUTE,
    poll: 6 * HOUR,
    ticks: ['2026-10-23T00:30:00.000Z', '2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z'],
  },
  {
    name: 'weekdays 0 9 * * 1-5 America/New_York across 2026-03-08 (spring forward on a Sunday)',
    expression: '0 9 * * 1-5',
    tz: 'America/New_York',
    maxDuration: 30 * MINUTE,
    poll: 6 * HOUR,
    ticks: ['2026-03-05T14:00:00.000Z', '2026-03-06T14:00:00.000Z', '2026-03-09T13:00:00.000Z', '2026-03-10T13:00:00.000Z'],
  },
  {
    name: 'weekdays 0 9 * * 1-5 America/New_York across 2026-11-01 (fall back on a Sunday)',
    expression: '0 9 * * 1-5',
    tz: 'America/New_York',
    maxDuration: 30 * MINUTE,
    poll: 6 * HOUR,
    ticks: ['2026-10-29T13:00:00.000Z', '2026-10-30T13:00:00.000Z', '2026-11-02T14:00:00.000Z', '2026-11-03T14:00:00.000Z'],
  },
  {
    name: 'daily 15 2 * * * Australia/Lord_Howe across fall back 2026-04-05 (02:00 → 01:30, 30-minute shift)',
    expression: '15 2 * * *',
    tz: 'Australia/Lord_Howe',
    maxDuration: 20 * MINUTE,
    poll: 6 * HOUR,
    ticks: ['2026-04-02T15:15:00.000Z', '2026-04-03T15:15:00.000Z', '2026-04-04T15:45:00.000Z', '2026-04-05T15:45:00.000Z', '2026-04-06T15:45:00.000Z'],
  },
  {
    name: 'daily 15 2 * * * Australia/Lord_Howe across spring forward 2026-10-04 (02:00 → 02:30: 02:15 runs at 02:30)',
    expression: '15 2 * * *',
    tz: 'Australia/Lord_Howe',
    maxDuration: 20 * MINUTE,
    poll: 6 * HOUR,
    ticks: ['2026-10-01T15:45:00.000Z', '2026-10-02T15:45:00.000Z', '2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z', '2026-10-05T15:15:00.000Z'],
  },
  {
    name: 'hourly 0 * * * * Europe/Amsterdam across spring forward 2026-03-29 (no 02:00 local, one tick per real hour)',
    expression: '0 * * * *',
    tz: 'Europe/Amsterdam',
    maxDuration: 10 * MINUTE,
    poll: 20 * MINUTE,
    ticks: hourlyTicks('2026-03-28T21:00:00Z', 10),
  },
  {
    name: 'hourly 0 * * * * Europe/Amsterdam across fall back 2026-10-25 (02:00 local twice, one tick per real hour)',
    expression: '0 * * * *',
    tz: 'Europe/Amsterdam',
    maxDuration: 10 * MINUTE,
    poll: 20 * MINUTE,
    ticks: hourlyTicks('2026-10-24T21:00:00Z', 10),
  },
];

describe('decide: DST', () => {
  it.each(dstCases)('$name', ({ expression, tz, maxDuration, poll, ticks }) => {
    const monitor = cron(expression, { tz, maxDuration });
    // The job finishes at the tick; the event reaches Vigil 5 s later.
    const arrivals = ticks.map((tick) => ({ at: ms(tick) + 5 * SECOND, events: [finish(tick)] }));
    const last = ms(ticks[ticks.length - 1]!);
    const w = simulate({ monitor }, arrivals, last + maxDuration + TOLERANCE, poll);

    expect(sorted(w.occurrences)).toEqual(ticks.map((at) => ({ expectedAt: at, status: 'success', startedAt: null, finishedAt: at })));
    expect(w.incidents).toEqual([]);
    expect(w.state.consecutiveFailures).toBe(0);
    expect(w.state.consecutiveSuccesses).toBe(ticks.length);
    // Before each tick's finish arrived, the evaluator was due back at that tick's deadline + tolerance.
    for (const tick of ticks.slice(1)) {
      const before = w.passes.filter((p) => p.now < ms(tick)).pop();
      expect(iso(before?.nextCheckAt ?? null), `before ${tick}`).toBe(iso(ms(tick) + maxDuration + TOLERANCE));
    }
  });

  it.each(dstCases)('silent after the first run, judged only at nextCheckAt: exactly one miss per tick — $name', ({ expression, tz, maxDuration, ticks }) => {
    const monitor = cron(expression, { tz, maxDuration, failureThreshold: 99 });
    const w = world({ monitor });
    step(w, { now: ms(ticks[0]!) + 5 * SECOND, events: [finish(ticks[0]!)] });
    const visited: string[] = [];
    const until = ms(ticks[ticks.length - 1]!) + maxDuration + TOLERANCE;
    while (w.nextCheckAt !== null && w.nextCheckAt <= until) {
      visited.push(iso(w.nextCheckAt)!);
      step(w, { now: w.nextCheckAt });
    }
    expect(visited).toEqual(ticks.slice(1).map((tick) => iso(ms(tick) + maxDuration + TOLERANCE)));
    expect(sorted(w.occurrences).map((o) => `${o.expectedAt} ${o.status}`)).toEqual(ticks.map((tick, i) => `${tick} ${i === 0 ? 'success' : 'missed'}`));
    expect(w.state.consecutiveFailures).toBe(ticks.length - 1);
    expect(w.incidents).toEqual([]);
  });
});
