import { nextTick, previousTick, type CronSchedule } from '../monitors/schedule.js';
import type { IncidentReason } from '../notify/types.js';
import type {
  Blackout,
  ChangedOccurrence,
  Decision,
  DecisionInput,
  EvaluatedEvent,
  IncidentChange,
  MonitorState,
  OccurrenceStatus,
} from './types.js';
import { FailedStatuses } from './types.js';

/** Clocks drift: an event up to this long before a tick counts towards it (at most half the gap). */
export const EARLY_MARGIN_MS = 60_000;
/** After a long outage, older ticks are skipped rather than materialised one by one. */
const MAX_NEW_TICKS = 1000;

interface Work {
  key: number;
  id: number | null;
  expectedAt: number;
  deadline: number;
  status: OccurrenceStatus;
  startedAt: number | null;
  finishedAt: number | null;
  digest: string | null;
  previousStatus: OccurrenceStatus | null;
  dirty: boolean;
}

interface Signal {
  readonly at: number;
  readonly outcome: 'success' | 'failure';
  readonly reason: IncidentReason;
  readonly key: number;
}

/**
 * The evaluator's core: given a monitor, its recent occurrences, the events not yet seen
 * and the time, decide which occurrences open, close or change, and whether an incident
 * opens or resolves. Pure: no I/O, no clock; the caller applies the result atomically.
 */
export function decide(input: DecisionInput): Decision {
  const { monitor, now, tolerance } = input;
  const work: Work[] = input.occurrences.map((o, key) => ({ ...o, key, previousStatus: o.status, dirty: false }));
  const state = { ...input.state } as { -readonly [K in keyof MonitorState]: MonitorState[K] };
  const signals: Signal[] = [];
  const events = [...input.events].sort((a, b) => a.timestamp - b.timestamp || a.id - b.id);

  const setStatus = (w: Work, status: OccurrenceStatus, at: number): void => {
    const before = w.status;
    if (before === status) return;
    w.status = status;
    w.dirty = true;
    const open = before === 'running' || before === 'unknown';
    if (FailedStatuses.includes(status) && open) {
      signals.push({ at, outcome: 'failure', reason: reasonOf(w), key: w.key });
    } else if (status === 'success' && (open || before === 'missed')) {
      // A late-arriving event whose timestamp is inside the window corrects a declared miss.
      // Successes must be consecutive: one that a later occurrence has already failed after
      // (a correction of an older miss, an older overlapping run) does not count towards recovery.
      if (work.some((o) => o.expectedAt > w.expectedAt && FailedStatuses.includes(o.status))) return;
      signals.push({ at, outcome: 'success', reason: 'missed', key: w.key });
    }
  };
  const create = (expectedAt: number, deadline: number): Work => {
    const w: Work = {
      key: work.length,
      id: null,
      expectedAt,
      deadline,
      status: 'running',
      startedAt: null,
      finishedAt: null,
      digest: null,
      previousStatus: null,
      dirty: true,
    };
    work.push(w);
    return w;
  };

  if (monitor.paused) {
    // Windows that fall while paused are not judged: whatever was open becomes unknown.
    for (const w of work) if (w.status === 'running') setStatus(w, 'unknown', now);
    return finish(work, state, [], null, 'paused');
  }
  if (events.length > 0) state.armed = true;
  if (!state.armed) return finish(work, state, [], null, 'new');

  if (monitor.type === 'cron' && monitor.schedule) {
    cronEvents(monitor.schedule, monitor.maxDuration, events, now, state, work, create, setStatus);
  } else if (monitor.type === 'heartbeat') {
    heartbeatEvents(monitor.maxDuration, tolerance, input.blackouts, events, state, work, create, setStatus, signals);
  }

  // Deadlines: a window that ended more than `tolerance` ago without a finish is missed,
  // unless Vigil could not have received its events (down, or paused): then unknown.
  for (const w of work) {
    if (w.status !== 'running' || now < w.deadline + tolerance) continue;
    const from = monitor.type === 'cron' && monitor.schedule ? w.expectedAt - earlyMargin(monitor.schedule, w.expectedAt) : w.expectedAt;
    setStatus(w, overlaps(input.blackouts, from, w.deadline + tolerance) ? 'unknown' : 'missed', w.deadline);
  }

  let nextCheckAt: number | null = null;
  if (monitor.type === 'heartbeat') {
    nextCheckAt = followSilence(monitor.maxDuration, monitor.failureThreshold, now, tolerance, input.blackouts, work, create, setStatus);
  }

  const incidents = applySignals(signals, state, monitor.failureThreshold, monitor.recoveryThreshold);
  for (const w of work) if (w.status === 'running') nextCheckAt = min(nextCheckAt, w.deadline + tolerance);
  if (monitor.type === 'cron' && monitor.schedule && state.ticksThrough !== null) {
    const upcoming = nextTick(monitor.schedule, new Date(Math.max(state.ticksThrough, (state.armedFrom ?? 0) - 1)));
    if (upcoming) nextCheckAt = min(nextCheckAt, upcoming.getTime() + monitor.maxDuration + tolerance);
  }
  const latest = work.reduce<Work | undefined>((a, w) => (!a || w.expectedAt > a.expectedAt ? w : a), undefined);
  return finish(work, state, incidents, nextCheckAt, latest ? latest.status : 'unknown');
}

function cronEvents(
  schedule: CronSchedule,
  maxDuration: number,
  events: readonly EvaluatedEvent[],
  now: number,
  state: { ticksThrough: number | null; armedFrom: number | null },
  work: Work[],
  create: (expectedAt: number, deadline: number) => Work,
  setStatus: (w: Work, status: OccurrenceStatus, at: number) => void,
): void {
  const first = events[0];
  if (state.ticksThrough === null) {
    if (!first) return;
    // Armed by the first event: judge the slot it belongs to only if it is inside its window,
    // so a first manual run at an odd hour does not count as a late run.
    const tick = tickFor(schedule, first.timestamp);
    state.ticksThrough = tick !== null && first.timestamp <= tick + maxDuration ? tick - 1 : (tick ?? first.timestamp);
  }
  const limit = Math.max(now, events.length > 0 ? events[events.length - 1]!.timestamp : now);
  materialize(schedule, maxDuration, limit, state, create);

  for (const event of events) {
    if (event.kind === 'start') {
      const tick = tickFor(schedule, event.timestamp);
      const w = work.find((o) => o.expectedAt === tick);
      // A second start in the same slot (another run) does not replace the first.
      if (!w || w.startedAt !== null) continue;
      w.startedAt = event.timestamp;
      w.digest = event.digest ?? w.digest;
      w.dirty = true;
      continue;
    }
    let target = event.digest ? work.find((o) => o.digest === event.digest) : undefined;
    if (target && target.finishedAt !== null) continue; // duplicate finish of a known run
    if (!target) {
      if (work.some((o) => o.finishedAt === event.timestamp && (o.digest === null || event.digest === null))) continue;
      const open = work.filter((o) => o.finishedAt === null).sort((a, b) => a.expectedAt - b.expectedAt);
      const opens = (o: Work) => o.expectedAt - earlyMargin(schedule, o.expectedAt) <= event.timestamp;
      target = open.find((o) => opens(o) && event.timestamp <= o.deadline) ?? open.filter(opens).pop();
    }
    if (!target) continue; // before any judged slot: nothing to say about it
    if (target.status === 'unknown' && event.timestamp > target.deadline) {
      // Vigil did not watch that window (down, or paused): an event after the window is
      // recorded but judges nothing, so it cannot alert.
      target.finishedAt = event.timestamp;
      target.digest ??= event.digest;
      target.dirty = true;
      continue;
    }
    target.finishedAt = event.timestamp;
    target.digest ??= event.digest;
    target.dirty = true;
    setStatus(target, event.kind === 'fail' ? 'failed' : event.timestamp <= target.deadline ? 'success' : 'late', event.timestamp);
  }
}

function materialize(
  schedule: CronSchedule,
  maxDuration: number,
  limit: number,
  state: { ticksThrough: number | null; armedFrom: number | null },
  create: (expectedAt: number, deadline: number) => Work,
): void {
  let cursor = state.ticksThrough!;
  if (state.armedFrom !== null && cursor < state.armedFrom - 1) cursor = state.armedFrom - 1;
  for (let created = 0; ; ) {
    const next = nextTick(schedule, new Date(cursor));
    if (!next) break;
    const tick = next.getTime();
    if (tick - earlyMargin(schedule, tick) > limit) break;
    if (created >= MAX_NEW_TICKS) {
      // Far behind (a long outage): skip to the ticks whose windows can still matter
      // (never past `tick` itself: its window may still be open).
      const resume = previousTick(schedule, new Date(limit - maxDuration));
      cursor = resume ? Math.max(cursor, resume.getTime()) : cursor;
      created = 0;
      continue;
    }
    create(tick, tick + maxDuration);
    created += 1;
    cursor = tick;
  }
  state.ticksThrough = cursor;
}

function heartbeatEvents(
  maxDuration: number,
  tolerance: number,
  blackouts: readonly Blackout[],
  events: readonly EvaluatedEvent[],
  state: { armedFrom: number | null },
  work: Work[],
  create: (expectedAt: number, deadline: number) => Work,
  setStatus: (w: Work, status: OccurrenceStatus, at: number) => void,
  signals: Signal[],
): void {
  // Re-armed (resumed): expect a beat within max_duration from then.
  if (state.armedFrom !== null && !work.some((o) => o.expectedAt >= state.armedFrom!) && work.length > 0) {
    create(state.armedFrom, state.armedFrom + maxDuration);
  }
  for (const event of events) {
    const ts = event.timestamp;
    if (work.some((o) => o.expectedAt === ts)) continue; // duplicate beat
    const latest = work.reduce<Work | undefined>((a, w) => (!a || w.expectedAt > a.expectedAt ? w : a), undefined);
    if (latest && ts < latest.expectedAt) {
      // Out of order: a beat inside an earlier window that was judged missed corrects it.
      const window = work.find((o) => o.expectedAt < ts && ts <= o.deadline && (o.status === 'missed' || o.status === 'unknown'));
      if (window) {
        window.finishedAt = ts;
        setStatus(window, 'success', ts);
      }
      continue;
    }
    if (latest) {
      const onTime = ts <= latest.deadline;
      let wasDown = latest.status === 'missed' && !onTime;
      if (latest.status === 'running' || latest.status === 'unknown' || (latest.status === 'missed' && onTime)) {
        latest.finishedAt = ts;
        latest.dirty = true;
        if (onTime) {
          // In time; a miss declared before this beat arrived is corrected (a success).
          setStatus(latest, 'success', ts);
        } else if (latest.status === 'running' && !overlaps(blackouts, latest.expectedAt, latest.deadline + tolerance)) {
          setStatus(latest, 'missed', latest.deadline);
          wasDown = true;
        } else {
          // Vigil was down during the window: the beats it expected may have been lost.
          setStatus(latest, 'unknown', ts);
        }
      }
      // The first beat after a silence is the process coming back.
      if (wasDown) signals.push({ at: ts, outcome: 'success', reason: 'missed', key: latest.key });
    }
    create(ts, ts + maxDuration);
  }
}

/**
 * A heartbeat silence goes on after its first missed window. Each further `max_duration` of
 * silence is another failed window, so `failure_threshold` N alerts after N windows of
 * silence; windows stop being added once N are reached (the incident is open by then).
 * A window that Vigil could not watch (down) is unknown; the process is then expected to
 * beat within `max_duration` of Vigil coming back, so a process that died meanwhile still
 * alerts. Returns when the evaluator must look again for the next window, if any.
 */
function followSilence(
  maxDuration: number,
  failureThreshold: number,
  now: number,
  tolerance: number,
  blackouts: readonly Blackout[],
  work: Work[],
  create: (expectedAt: number, deadline: number) => Work,
  setStatus: (w: Work, status: OccurrenceStatus, at: number) => void,
): number | null {
  for (;;) {
    const ordered = [...work].sort((a, b) => a.expectedAt - b.expectedAt);
    const latest = ordered[ordered.length - 1];
    if (!latest || latest.finishedAt !== null) return null;
    if (latest.status === 'running') {
      if (now < latest.deadline + tolerance) return null;
      setStatus(latest, overlaps(blackouts, latest.expectedAt, latest.deadline + tolerance) ? 'unknown' : 'missed', latest.deadline);
      continue;
    }
    if (latest.status === 'unknown') {
      // Unknown because Vigil was down (not paused: resume re-arms that case).
      const back = blackouts.filter((b) => b.from < latest.deadline + tolerance && b.to > latest.expectedAt).reduce((m, b) => Math.max(m, b.to), 0);
      if (back <= latest.expectedAt) return null;
      create(back, back + maxDuration);
      continue;
    }
    if (latest.status !== 'missed') return null;
    let silent = 0;
    for (let i = ordered.length - 1; i >= 0 && ordered[i]!.status === 'missed' && ordered[i]!.finishedAt === null; i--) silent += 1;
    if (silent >= failureThreshold) return null;
    const next = { expectedAt: latest.deadline, deadline: latest.deadline + maxDuration };
    if (now < next.deadline + tolerance) return next.deadline + tolerance;
    create(next.expectedAt, next.deadline);
  }
}

function applySignals(signals: Signal[], state: { -readonly [K in keyof MonitorState]: MonitorState[K] }, failureThreshold: number, recoveryThreshold: number): IncidentChange[] {
  const incidents: IncidentChange[] = [];
  for (const s of signals.sort((a, b) => a.at - b.at)) {
    if (s.outcome === 'failure') {
      state.consecutiveFailures += 1;
      state.consecutiveSuccesses = 0;
      state.lastFailureAt = Math.max(state.lastFailureAt ?? 0, s.at);
      if (!state.openIncident && state.consecutiveFailures >= failureThreshold) {
        incidents.push({ action: 'open', reason: s.reason, at: s.at, occurrenceKey: s.key });
        state.openIncident = { id: -1 };
      }
    } else {
      state.consecutiveSuccesses += 1;
      state.consecutiveFailures = 0;
      state.lastSuccessAt = Math.max(state.lastSuccessAt ?? 0, s.at);
      if (state.openIncident && state.consecutiveSuccesses >= recoveryThreshold) {
        incidents.push({ action: 'resolve', reason: s.reason, at: s.at, occurrenceKey: s.key });
        state.openIncident = null;
      }
    }
  }
  return incidents;
}

function finish(
  work: Work[],
  state: MonitorState,
  incidents: IncidentChange[],
  nextCheckAt: number | null,
  status: Decision['status'],
): Decision {
  // Every occurrence keeps its key (= its index) so incidents can point at unchanged ones too.
  const occurrences: ChangedOccurrence[] = work.map((w) => ({
    key: w.key,
    id: w.id,
    expectedAt: w.expectedAt,
    deadline: w.deadline,
    status: w.status,
    startedAt: w.startedAt,
    finishedAt: w.finishedAt,
    digest: w.digest,
    previousStatus: w.previousStatus,
    changed: w.dirty,
  }));
  return { occurrences, state, incidents, nextCheckAt, status };
}

/** Why an occurrence failed, in the words of an incident. */
export function reasonOf(o: { status: OccurrenceStatus; startedAt: number | null }): IncidentReason {
  if (o.status === 'failed') return 'failed';
  if (o.status === 'late') return 'late';
  return o.startedAt !== null ? 'timeout' : 'missed';
}

/** The early margin of a tick: 60 s, or half the gap to the next tick if that is shorter. */
export function earlyMargin(schedule: CronSchedule, tick: number): number {
  const next = nextTick(schedule, new Date(tick));
  return next ? Math.min(EARLY_MARGIN_MS, (next.getTime() - tick) / 2) : EARLY_MARGIN_MS;
}

/** The tick an event at `ts` belongs to: the next tick if `ts` is within its early margin, else the last one. */
export function tickFor(schedule: CronSchedule, ts: number): number | null {
  const next = nextTick(schedule, new Date(ts - 1));
  if (next && next.getTime() - earlyMargin(schedule, next.getTime()) <= ts) return next.getTime();
  return previousTick(schedule, new Date(ts))?.getTime() ?? null;
}

function overlaps(blackouts: readonly Blackout[], from: number, to: number): boolean {
  return blackouts.some((b) => b.from < to && b.to > from);
}

const min = (a: number | null, b: number): number => (a === null ? b : Math.min(a, b));
