import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, type Transaction, sql } from 'kysely';
import type { Logger } from 'pino';
import { BackgroundLoop, msUntil } from '../background.js';
import type { Clock } from '../clock.js';
import { parseSchedule } from '../monitors/schedule.js';
import { buildNotification } from '../notify/payload.js';
import type { IncidentReason } from '../notify/types.js';
import type { Database, MonitorRow, Store } from '../store/index.js';
import { decide } from './decide.js';
import type { Blackout, Decision, EvaluatedEvent, MonitorState, Occurrence, OccurrenceStatus } from './types.js';

export interface EvaluatorOptions {
  /** VIGIL_INGEST_TOLERANCE in ms. */
  readonly tolerance: number;
  readonly baseUrl: string;
  /** Called after a pass enqueued notifications (wakes the delivery worker). */
  readonly onEnqueued?: () => void;
}

// One pass is one transaction on the event loop's thread (SQLite is synchronous): passes
// of bounded size keep ingest and the API answering between them. The check-ins of a pass
// are grouped in the database, so its cost grows with the monitors it decides far more than
// with the check-ins it reads: under a flood of check-ins, big passes are the cheap ones
// (5,000 per pass took a quarter of the event loop at 200,000 check-ins/s; 50,000, a tenth).
const EVENTS_PER_PASS = 50_000;
const MONITORS_PER_TRANSACTION = 200;
/** Never sleep longer than this, so a missed wake-up costs at most a minute. */
const MAX_SLEEP_MS = 60_000;
/**
 * Event-driven passes are coalesced: at most one per this interval, and under load spaced
 * by 20 times the last pass's duration (at most a second), so evaluating check-ins takes
 * about 5 % of the event loop however fast they arrive.
 */
const EVENT_PASS_INTERVAL_MS = 50;
const EVENT_PASS_SPACING_FACTOR = 20;
const EVENT_PASS_MAX_INTERVAL_MS = 1000;
const DAY_MS = 86_400_000;

type Db = Kysely<Database> | Transaction<Database>;
type OccurrenceRow = Selectable<Database['occurrences']>;

/** What one pass loads once and shares between the monitors it decides. */
interface PassContext {
  readonly now: number;
  readonly blackouts: Blackout[];
  readonly apps: Map<number, { id: number; name: string; environment: string }>;
  notifiers: Set<number> | undefined;
}

/**
 * The deadline-driven loop around `decide`: it sleeps until the earliest stored
 * `next_check_at` (or new check-ins), loads only the monitors that are due or got events,
 * and applies each decision — occurrences, monitor state, incidents and the outbox rows
 * announcing them — in one transaction.
 */
export class Evaluator extends BackgroundLoop {
  /** Pass statistics, for /metrics and the benchmark. */
  readonly stats = { passes: 0, monitorsEvaluated: 0, eventsEvaluated: 0, lastPassMs: 0, busyMs: 0 };

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    logger: Logger,
    private readonly options: EvaluatorOptions,
  ) {
    super({ maxSleepMs: MAX_SLEEP_MS, logger, name: 'evaluation' });
  }

  protected override wokenSpacingMs(): number {
    return Math.max(EVENT_PASS_INTERVAL_MS, Math.min(EVENT_PASS_MAX_INTERVAL_MS, EVENT_PASS_SPACING_FACTOR * this.stats.lastPassMs));
  }

  protected async nextDueIn(): Promise<number | null> {
    const next = await this.store.db
      .selectFrom('monitors')
      .select((eb) => eb.fn.min('next_check_at').as('next'))
      .where('next_check_at', 'is not', null)
      .executeTakeFirst();
    return msUntil(next?.next, this.clock.now());
  }

  /** One pass; true when there is more to do right away. */
  protected async runPass(): Promise<boolean> {
    let started = performance.now();
    const now = this.clock.now();
    let enqueued = 0;
    let more = false;
    await this.store.writeTransaction(async (trx) => {
      // Time from here: waiting for the write lock is not work.
      started = performance.now();
      // The cursor row is the claim: with several instances, one evaluates while the
      // others skip the pass instead of deciding the same monitors twice.
      let cursorQuery = trx.selectFrom('evaluator_cursor').select('last_event_id').where('id', '=', 1);
      if (this.store.capabilities.supportsSkipLocked) cursorQuery = cursorQuery.forUpdate().skipLocked();
      const cursor = await cursorQuery.executeTakeFirst();
      if (!cursor) return;
      // The next EVENTS_PER_PASS events, read as their distinct (monitor, kind, digest,
      // timestamp): `decide` ignores a repeat of an event it has seen (a second beat in the
      // same second, a repeated finish), so a monitor hammered with check-ins costs a pass
      // one row per second of them, and the grouping runs in the database.
      const from = Number(cursor.last_event_id);
      const range = await trx
        .selectFrom((eb) => eb.selectFrom('check_in_events').select('id').where('id', '>', from).orderBy('id').limit(EVENTS_PER_PASS).as('r'))
        .select((eb) => [eb.fn.max('r.id').as('last'), eb.fn.countAll().as('count')])
        .executeTakeFirst();
      const lastId = range?.last === null || range?.last === undefined ? null : Number(range.last);
      const eventCount = Number(range?.count ?? 0);
      const events =
        lastId === null
          ? []
          : await trx
              .selectFrom('check_in_events')
              .select((eb) => ['monitor_id', 'kind', 'digest', 'timestamp', eb.fn.min('id').as('id')])
              .where('id', '>', from)
              .where('id', '<=', lastId)
              .groupBy(['monitor_id', 'kind', 'digest', 'timestamp'])
              .execute();
      const due = await trx
        .selectFrom('monitors')
        .select('id')
        .where('next_check_at', '<=', now)
        .orderBy('next_check_at')
        .limit(MONITORS_PER_TRANSACTION)
        .execute();
      more = eventCount === EVENTS_PER_PASS || due.length === MONITORS_PER_TRANSACTION;
      const byMonitor = new Map<number, EvaluatedEvent[]>();
      for (const e of events) {
        let list = byMonitor.get(e.monitor_id);
        if (!list) byMonitor.set(e.monitor_id, (list = []));
        list.push({ id: Number(e.id), kind: (e.kind as EvaluatedEvent['kind']) ?? null, digest: e.digest, timestamp: Number(e.timestamp) * 1000 });
      }
      for (const d of due) if (!byMonitor.has(d.id)) byMonitor.set(d.id, []);
      if (byMonitor.size > 0) {
        const blackouts = (await trx.selectFrom('blackouts').select(['from_at', 'to_at']).where('to_at', '>=', now - 7 * DAY_MS).execute()).map(
          (b): Blackout => ({ from: Number(b.from_at), to: Number(b.to_at) }),
        );
        const context: PassContext = { now, blackouts, apps: new Map(), notifiers: undefined };
        const ids = [...byMonitor.keys()];
        for (let i = 0; i < ids.length; i += MONITORS_PER_TRANSACTION) {
          const chunk = ids.slice(i, i + MONITORS_PER_TRANSACTION);
          const monitors = await trx.selectFrom('monitors').selectAll().where('id', 'in', chunk).execute();
          const occurrences = await this.loadOccurrences(trx, monitors, byMonitor, now);
          for (const monitor of monitors) {
            const events = byMonitor.get(monitor.id) ?? [];
            enqueued += await this.evaluate(trx, monitor, events, occurrences.get(monitor.id) ?? [], context);
          }
        }
        this.stats.monitorsEvaluated += byMonitor.size;
      }
      if (lastId !== null) await trx.updateTable('evaluator_cursor').set({ last_event_id: lastId }).where('id', '=', 1).execute();
      this.stats.eventsEvaluated += eventCount;
    });
    this.stats.passes += 1;
    this.stats.lastPassMs = performance.now() - started;
    this.stats.busyMs += this.stats.lastPassMs;
    if (enqueued > 0) this.options.onEnqueued?.();
    return more;
  }

  /**
   * The occurrences `decide` needs for a chunk of monitors: every window whose deadline could
   * still take the new events (cron monitors; for heartbeats only the unsettled ones and those
   * opened at the new beats' times, which make a repeated beat a duplicate), the open windows
   * of the last day, and each monitor's latest occurrence and, for heartbeats, latest success,
   * where a run of missed windows starts. Every query walks an index over
   * recent or unsettled rows only, so a pass costs the same after a year as on day one.
   */
  private async loadOccurrences(trx: Db, monitors: MonitorRow[], events: Map<number, EvaluatedEvent[]>, now: number) {
    const byMonitor = new Map<number, OccurrenceRow[]>();
    if (monitors.length === 0) return byMonitor;
    const ids = monitors.map((m) => m.id);
    const cronIds = monitors.filter((m) => m.type === 'cron').map((m) => m.id);
    const heartbeatIds = monitors.filter((m) => m.type !== 'cron').map((m) => m.id);
    let since = now;
    for (const m of monitors) {
      const earliest = (events.get(m.id) ?? []).reduce((t, e) => Math.min(t, e.timestamp), now);
      since = Math.min(since, earliest - 2 * m.max_duration * 1000 - 15 * 60_000);
    }
    const dayAgo = now - DAY_MS;
    const isOpen = (r: OccurrenceRow): boolean =>
      r.finished_at === null && Number(r.expected_at) >= dayAgo && (r.status === 'running' || r.status === 'missed' || r.status === 'unknown');
    // Unsettled rows (occurrences_unsettled): those in reach of the events, and the open ones.
    const unsettled = (
      await trx
        .selectFrom('occurrences')
        .selectAll()
        .where('monitor_id', 'in', ids)
        // A literal, not a parameter: SQLite uses a partial index only if it sees the value.
        .where('status', '<>', sql.lit('success'))
        .where('deadline', '>=', Math.min(since, dayAgo))
        .execute()
    ).filter((r) => Number(r.deadline) >= since || isOpen(r));
    // Cron events pair with settled ticks too (a repeated finish, a digest): all in reach.
    const inReach =
      cronIds.length === 0
        ? []
        : await trx.selectFrom('occurrences').selectAll().where('monitor_id', 'in', cronIds).where('deadline', '>=', since).execute();
    const latestOf = (monitorIds: number[], status?: 'success') =>
      trx
        .selectFrom('occurrences')
        .selectAll()
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('monitors as m')
            .where('m.id', 'in', monitorIds)
            .select((m) =>
              m
                .selectFrom('occurrences as x')
                .select('x.id')
                .whereRef('x.monitor_id', '=', 'm.id')
                .$if(status !== undefined, (q) => q.where('x.status', '=', status!))
                .orderBy('x.expected_at', 'desc')
                .limit(1)
                .as('id'),
            ),
        )
        .execute();
    const latest = await latestOf(ids);
    const latestSuccess = heartbeatIds.length === 0 ? [] : await latestOf(heartbeatIds, 'success');
    // A beat repeated later finds its own window (a duplicate) among the rows of its time span.
    let from = Infinity;
    let to = -Infinity;
    for (const id of heartbeatIds) {
      for (const e of events.get(id) ?? []) {
        from = Math.min(from, e.timestamp);
        to = Math.max(to, e.timestamp);
      }
    }
    const beatWindows =
      from > to
        ? []
        : await trx
            .selectFrom('occurrences')
            .selectAll()
            .where('monitor_id', 'in', heartbeatIds)
            .where('expected_at', '>=', from)
            .where('expected_at', '<=', to)
            .execute();
    const seen = new Set<number>();
    const rows = [...unsettled, ...inReach, ...latest, ...latestSuccess, ...beatWindows].filter((r) => !seen.has(r.id) && seen.add(r.id));
    rows.sort((a, b) => Number(a.expected_at) - Number(b.expected_at) || a.id - b.id);
    for (const row of rows) {
      let list = byMonitor.get(row.monitor_id);
      if (!list) byMonitor.set(row.monitor_id, (list = []));
      list.push(row);
    }
    return byMonitor;
  }

  /** Decides one monitor and applies the decision; returns the number of notifications enqueued. */
  private async evaluate(trx: Db, monitor: MonitorRow, events: EvaluatedEvent[], rows: OccurrenceRow[], context: PassContext): Promise<number> {
    const { now, blackouts } = context;
    const maxDuration = monitor.max_duration * 1000;
    const occurrences: Occurrence[] = rows.map((r) => ({
      id: r.id,
      expectedAt: Number(r.expected_at),
      deadline: Number(r.deadline),
      status: r.status as OccurrenceStatus,
      startedAt: r.started_at === null ? null : Number(r.started_at),
      finishedAt: r.finished_at === null ? null : Number(r.finished_at),
      digest: r.digest,
    }));
    const state: MonitorState = {
      ticksThrough: monitor.ticks_through === null ? null : Number(monitor.ticks_through),
      armedFrom: monitor.armed_from === null ? null : Number(monitor.armed_from),
      armed: Number(monitor.armed) === 1,
      consecutiveFailures: Number(monitor.consecutive_failures),
      consecutiveSuccesses: Number(monitor.consecutive_successes),
      openIncident: monitor.open_incident_id === null ? null : { id: monitor.open_incident_id },
      lastSuccessAt: monitor.last_success_at === null ? null : Number(monitor.last_success_at),
      lastFailureAt: monitor.last_failure_at === null ? null : Number(monitor.last_failure_at),
    };
    const decision = decide({
      monitor: {
        type: monitor.type === 'heartbeat' ? 'heartbeat' : 'cron',
        schedule: monitor.type === 'cron' && monitor.schedule ? parseSchedule(monitor.schedule, monitor.timezone ?? 'UTC') : null,
        maxDuration,
        failureThreshold: monitor.failure_threshold,
        recoveryThreshold: monitor.recovery_threshold,
        paused: monitor.paused === 1,
      },
      state,
      occurrences,
      events,
      now,
      tolerance: this.options.tolerance,
      blackouts,
    });
    return this.apply(trx, monitor, decision, context);
  }

  private async apply(trx: Db, monitor: MonitorRow, decision: Decision, context: PassContext): Promise<number> {
    const { now } = context;
    const idByKey = new Map<number, number>();
    for (const o of decision.occurrences) {
      if (o.id !== null) idByKey.set(o.key, o.id);
      if (!o.changed) continue;
      const values = {
        status: o.status,
        started_at: o.startedAt,
        finished_at: o.finishedAt,
        digest: o.digest,
        deadline: o.deadline,
        updated_at: now,
      };
      if (o.id === null) {
        const row = await trx
          .insertInto('occurrences')
          .values({ monitor_id: monitor.id, expected_at: o.expectedAt, ...values })
          .returning('id')
          .executeTakeFirstOrThrow();
        idByKey.set(o.key, row.id);
      } else {
        await trx.updateTable('occurrences').set(values).where('id', '=', o.id).execute();
      }
    }
    let openIncident = monitor.open_incident_id;
    let enqueued = 0;
    const state = decision.state;
    for (const change of decision.incidents) {
      const occurrenceId = idByKey.get(change.occurrenceKey) ?? null;
      const occurrence = decision.occurrences[change.occurrenceKey] ?? null;
      let incident: { id: number; reason: IncidentReason; opened_at: number; resolved_at: number | null };
      if (change.action === 'open') {
        const row = await trx
          .insertInto('incidents')
          .values({ monitor_id: monitor.id, reason: change.reason, opened_at: change.at, resolved_at: null, opened_occurrence_id: occurrenceId, resolved_occurrence_id: null })
          .returningAll()
          .executeTakeFirstOrThrow();
        openIncident = row.id;
        incident = { id: row.id, reason: change.reason, opened_at: change.at, resolved_at: null };
      } else {
        if (openIncident === null) continue;
        const row = await trx
          .updateTable('incidents')
          .set({ resolved_at: change.at, resolved_occurrence_id: occurrenceId })
          .where('id', '=', openIncident)
          .returningAll()
          .executeTakeFirstOrThrow();
        openIncident = null;
        incident = { id: row.id, reason: row.reason as IncidentReason, opened_at: Number(row.opened_at), resolved_at: change.at };
      }
      enqueued += await this.enqueue(trx, monitor, context, change.action === 'open' ? 'incident.opened' : 'incident.resolved', incident, {
        status: decision.status,
        lastSuccessAt: state.lastSuccessAt,
        occurrence:
          occurrence && occurrenceId !== null
            ? {
                id: occurrenceId,
                status: occurrence.status,
                expected_at: occurrence.expectedAt,
                deadline: occurrence.deadline,
                started_at: occurrence.startedAt,
                finished_at: occurrence.finishedAt,
                digest: occurrence.digest,
              }
            : null,
        now,
      });
    }
    await trx
      .updateTable('monitors')
      .set({
        status: decision.status,
        next_check_at: decision.nextCheckAt,
        ticks_through: state.ticksThrough,
        armed: state.armed ? 1 : 0,
        consecutive_failures: state.consecutiveFailures,
        consecutive_successes: state.consecutiveSuccesses,
        open_incident_id: openIncident,
        last_success_at: state.lastSuccessAt,
        last_failure_at: state.lastFailureAt,
      })
      .where('id', '=', monitor.id)
      .execute();
    return enqueued;
  }

  /** Writes one outbox row per notifier of the monitor, in the caller's transaction. */
  private async enqueue(
    trx: Db,
    monitor: MonitorRow,
    context: PassContext,
    event: 'incident.opened' | 'incident.resolved',
    incident: { id: number; reason: IncidentReason; opened_at: number; resolved_at: number | null },
    facts: { status: string; lastSuccessAt: number | null; occurrence: Parameters<typeof buildNotification>[0]['occurrence']; now: number },
  ): Promise<number> {
    const wanted = (JSON.parse(monitor.notifier_ids) as string[]).map(Number).filter(Number.isInteger);
    if (wanted.length === 0) return 0;
    context.notifiers ??= new Set((await trx.selectFrom('notifiers').select('id').execute()).map((n) => n.id));
    const notifiers = wanted.filter((id) => context.notifiers!.has(id)).map((id) => ({ id }));
    if (notifiers.length === 0) return 0;
    let app = context.apps.get(monitor.app_id);
    if (!app) {
      app = await trx.selectFrom('apps').select(['id', 'name', 'environment']).where('id', '=', monitor.app_id).executeTakeFirstOrThrow();
      context.apps.set(monitor.app_id, app);
    }
    for (const notifier of notifiers) {
      const uid = randomUUID();
      const payload = buildNotification({
        event,
        deliveryId: uid,
        incident,
        monitor,
        status: facts.status,
        lastSuccessAt: facts.lastSuccessAt,
        app,
        occurrence: facts.occurrence,
        baseUrl: this.options.baseUrl,
      });
      await trx
        .insertInto('deliveries')
        .values({
          uid,
          notifier_id: notifier.id,
          incident_id: incident.id,
          event,
          payload: JSON.stringify(payload),
          status: 'pending',
          next_attempt_at: facts.now,
          claimed_until: null,
          // When the row was written, not when the pass began: what the enqueue delay measures.
          created_at: this.clock.now(),
          delivered_at: null,
          last_error: null,
        })
        .execute();
    }
    return notifiers.length;
  }
}
