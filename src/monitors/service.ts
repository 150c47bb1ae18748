import type { Clock } from '../clock.js';
import { VigilError, notFound } from '../errors.js';
import type { MonitorRow, Store } from '../store/index.js';
import { iso, pageOf, type Page, type PageOf } from '../store/pagination.js';
import type { Catalog, MonitorType } from './catalog.js';
import { nextTick, parseSchedule } from './schedule.js';
import { MonitorCreateSchema, MonitorPatchSchema, MonitorPutSchema, validateMonitor, type MonitorPatch } from './schema.js';

// Defaults when a monitor is created without `max_duration`: a cron run gets 30 minutes
// (Sentry's default max runtime); a heartbeat may go 5 minutes without a beat.
export const DEFAULT_MAX_DURATION: Readonly<Record<MonitorType, number>> = { cron: 1800, heartbeat: 300 };

export const MonitorStatuses = ['new', 'paused', 'running', 'success', 'late', 'missed', 'failed', 'unknown'] as const;
export type MonitorStatus = (typeof MonitorStatuses)[number];

export interface MonitorView {
  id: string;
  app_id: string;
  identifier: string;
  type: MonitorType;
  schedule: string | null;
  timezone: string | null;
  max_duration: number;
  description: string;
  tags: string[];
  notifier_ids: string[];
  failure_threshold: number;
  recovery_threshold: number;
  paused: boolean;
  status: MonitorStatus;
  last_event_at: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  next_expected_at: string | null;
  created_at: string | null;
  updated_at: string | null;
}

export interface MonitorFilter {
  status?: string | undefined;
  tag?: string | undefined;
  q?: string | undefined;
}

/** Client time (epoch seconds) of a monitor's latest check-in. */
type LatestEvent = number;

export interface MonitorHooks {
  /** A monitor's configuration or pause state changed (wakes the evaluator). */
  readonly changed?: () => void;
  /** Refuses notifier ids that do not exist. */
  readonly assertNotifiers?: (ids: readonly string[]) => Promise<void>;
}

/** Monitors of an app: validation per SPEC §2, persistence, and the ingest catalog. */
export class MonitorsService {
  constructor(
    private readonly store: Store,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly hooks: MonitorHooks = {},
  ) {}

  async create(appId: number, input: unknown): Promise<MonitorView> {
    const fields = validateMonitor(MonitorCreateSchema, input);
    await this.assertApp(appId);
    return this.insert(appId, fields.identifier, fields);
  }

  /** Create or replace by identifier (config as code): fields not given take their defaults. */
  async put(appId: number, identifier: string, input: unknown): Promise<{ monitor: MonitorView; created: boolean }> {
    const fields = validateMonitor(MonitorPutSchema, input);
    validateMonitor(MonitorCreateSchema, { identifier, type: fields.type });
    await this.assertApp(appId);
    const existing = await this.store.db
      .selectFrom('monitors')
      .selectAll()
      .where('app_id', '=', appId)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    if (!existing) return { monitor: await this.insert(appId, identifier, fields), created: true };
    const replacement: MonitorPatch = {
      description: '',
      tags: [],
      notifier_ids: [],
      failure_threshold: 1,
      recovery_threshold: 1,
      schedule: null,
      timezone: null,
      max_duration: DEFAULT_MAX_DURATION[fields.type],
      paused: existing.paused === 1,
      ...fields,
    };
    return { monitor: await this.applyUpdate(existing, replacement), created: false };
  }

  async get(id: number): Promise<MonitorView> {
    const row = await this.row(id);
    return this.view(row, await this.latestEvent(row.id));
  }

  /**
   * Monitors of an app, newest first, filtered by status, tag or a search text. The status
   * filter and the page limit run in the database; a tag or search text is matched on the
   * few columns it needs, so only the page's monitors are read in full and turned into views
   * (with a schedule parsed each): a page costs the same with 50 monitors or 100,000.
   */
  async list(appId: number, filter: MonitorFilter, page: Page): Promise<PageOf<MonitorView>> {
    await this.assertApp(appId);
    let candidates = this.store.db.selectFrom('monitors').where('app_id', '=', appId).orderBy('id', 'desc');
    if (page.before !== undefined) candidates = candidates.where('id', '<', page.before);
    if (filter.status === 'paused') candidates = candidates.where('paused', '=', 1);
    else if (filter.status) candidates = candidates.where('paused', '=', 0).where('status', '=', filter.status);
    const q = filter.q?.toLowerCase();
    let ids: number[];
    const tag = filter.tag;
    if (!tag && !q) {
      ids = (await candidates.select('id').limit(page.limit + 1).execute()).map((r) => r.id);
    } else {
      const rows = await candidates.select(['id', 'tags', 'identifier', 'description']).execute();
      ids = rows
        .filter(
          (r) =>
            (!tag || (JSON.parse(r.tags) as string[]).includes(tag)) &&
            (!q || r.identifier.toLowerCase().includes(q) || r.description.toLowerCase().includes(q)),
        )
        .slice(0, page.limit + 1)
        .map((r) => r.id);
    }
    if (ids.length === 0) return { data: [], next_cursor: null };
    const rows = await this.store.db
      .selectFrom('monitors')
      .selectAll('monitors')
      .select((eb) =>
        eb
          .selectFrom('check_in_events')
          .select('timestamp')
          .whereRef('check_in_events.monitor_id', '=', 'monitors.id')
          .orderBy('id', 'desc')
          .limit(1)
          .as('latest_timestamp'),
      )
      .where('id', 'in', ids)
      .orderBy('id', 'desc')
      .execute();
    return pageOf(
      rows.map((row) => ({ id: row.id, view: this.view(row, row.latest_timestamp === null ? undefined : Number(row.latest_timestamp)) })),
      page,
      (m) => m.view,
    );
  }

  async update(id: number, input: unknown): Promise<MonitorView> {
    const patch = validateMonitor(MonitorPatchSchema, input);
    return this.applyUpdate(await this.row(id), patch);
  }

  async setPaused(id: number, paused: boolean): Promise<MonitorView> {
    return this.applyUpdate(await this.row(id), { paused });
  }

  /** Deletes a monitor and its history; check-ins for it become ingest errors at once. */
  async delete(id: number): Promise<void> {
    const row = await this.row(id);
    this.catalog.removeMonitor(row.app_id, row.identifier);
    await this.store.db.deleteFrom('monitors').where('id', '=', id).execute();
    await this.catalog.changed(this.store);
  }

  private async insert(appId: number, identifier: string, fields: MonitorPatch & { type: MonitorType }): Promise<MonitorView> {
    const checked = checkTypeRules(fields.type, fields);
    await this.assertIdentifierFree(appId, identifier, undefined);
    if (fields.notifier_ids) await this.hooks.assertNotifiers?.(fields.notifier_ids);
    const now = this.clock.now();
    const row = await this.store.db
      .insertInto('monitors')
      .values({
        app_id: appId,
        identifier,
        type: fields.type,
        schedule: checked.schedule,
        timezone: checked.timezone,
        max_duration: fields.max_duration ?? DEFAULT_MAX_DURATION[fields.type],
        description: fields.description ?? '',
        tags: JSON.stringify(fields.tags ?? []),
        notifier_ids: JSON.stringify(fields.notifier_ids ?? []),
        failure_threshold: fields.failure_threshold ?? 1,
        recovery_threshold: fields.recovery_threshold ?? 1,
        paused: fields.paused ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.catalog.putMonitor(appId, identifier, { id: row.id, appId, type: fields.type });
    await this.catalog.changed(this.store);
    return this.view(row, undefined);
  }

  private async applyUpdate(current: MonitorRow, patch: MonitorPatch): Promise<MonitorView> {
    const type = patch.type ?? (current.type as MonitorType);
    const typeChanged = type !== current.type;
    const checked = checkTypeRules(type, {
      // Switching to heartbeat drops the schedule unless the caller sent one (which is refused).
      schedule: patch.schedule !== undefined ? patch.schedule : typeChanged && type === 'heartbeat' ? null : current.schedule,
      timezone: patch.timezone !== undefined ? patch.timezone : typeChanged && type === 'heartbeat' ? null : current.timezone,
    });
    const identifier = patch.identifier ?? current.identifier;
    if (identifier !== current.identifier) await this.assertIdentifierFree(current.app_id, identifier, current.id);
    if (patch.notifier_ids) await this.hooks.assertNotifiers?.(patch.notifier_ids);
    const now = this.clock.now();
    const resumed = patch.paused === false && current.paused === 1;
    const row = await this.store.db
      .updateTable('monitors')
      .set({
        identifier,
        type,
        schedule: checked.schedule,
        timezone: checked.timezone,
        max_duration: patch.max_duration ?? current.max_duration,
        description: patch.description ?? current.description,
        tags: patch.tags ? JSON.stringify(patch.tags) : current.tags,
        notifier_ids: patch.notifier_ids ? JSON.stringify(patch.notifier_ids) : current.notifier_ids,
        failure_threshold: patch.failure_threshold ?? current.failure_threshold,
        recovery_threshold: patch.recovery_threshold ?? current.recovery_threshold,
        paused: patch.paused === undefined ? current.paused : patch.paused ? 1 : 0,
        updated_at: now,
        // The evaluator looks at the monitor now. Resume (and a type change) re-arm from
        // now: windows before it are not judged.
        next_check_at: now,
        ...(resumed || typeChanged ? { armed_from: now } : {}),
        // Until the evaluator's next pass (at once) says more: waiting, or never seen.
        ...(resumed ? { status: Number(current.armed) === 1 ? 'running' : 'new' } : {}),
        ...(typeChanged ? { ticks_through: null } : {}),
      })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (identifier !== current.identifier) this.catalog.removeMonitor(current.app_id, current.identifier);
    this.catalog.putMonitor(row.app_id, row.identifier, { id: row.id, appId: row.app_id, type });
    await this.catalog.changed(this.store);
    this.hooks.changed?.();
    return this.view(row, await this.latestEvent(row.id));
  }

  private async latestEvent(monitorId: number): Promise<LatestEvent | undefined> {
    const row = await this.store.db
      .selectFrom('check_in_events')
      .select('timestamp')
      .where('monitor_id', '=', monitorId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? Number(row.timestamp) : undefined;
  }

  private view(row: MonitorRow, latest: LatestEvent | undefined): MonitorView {
    const type = row.type as MonitorType;
    const now = this.clock.now();
    let nextExpected: number | null = null;
    if (row.paused !== 1) {
      if (type === 'cron' && row.schedule) {
        nextExpected = nextTick(parseSchedule(row.schedule, row.timezone ?? 'UTC'), new Date(now))?.getTime() ?? null;
      } else if (type === 'heartbeat' && latest !== undefined) {
        nextExpected = (latest + row.max_duration) * 1000;
      }
    }
    return {
      id: String(row.id),
      app_id: String(row.app_id),
      identifier: row.identifier,
      type,
      schedule: row.schedule,
      timezone: row.timezone,
      max_duration: row.max_duration,
      description: row.description,
      tags: JSON.parse(row.tags) as string[],
      notifier_ids: JSON.parse(row.notifier_ids) as string[],
      failure_threshold: row.failure_threshold,
      recovery_threshold: row.recovery_threshold,
      paused: row.paused === 1,
      status: row.paused === 1 ? 'paused' : (row.status as MonitorStatus),
      last_event_at: latest === undefined ? null : iso(latest * 1000),
      last_success_at: iso(row.last_success_at),
      last_failure_at: iso(row.last_failure_at),
      next_expected_at: iso(nextExpected),
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
    };
  }

  private async row(id: number): Promise<MonitorRow> {
    const row = await this.store.db.selectFrom('monitors').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`monitor ${id}`);
    return row;
  }

  private async assertApp(appId: number): Promise<void> {
    const app = await this.store.db.selectFrom('apps').select('id').where('id', '=', appId).executeTakeFirst();
    if (!app) throw notFound(`app ${appId}`);
  }

  private async assertIdentifierFree(appId: number, identifier: string, except: number | undefined): Promise<void> {
    let query = this.store.db.selectFrom('monitors').select('id').where('app_id', '=', appId).where('identifier', '=', identifier);
    if (except !== undefined) query = query.where('id', '!=', except);
    if (await query.executeTakeFirst()) {
      throw new VigilError('conflict', `identifier: a monitor "${identifier}" already exists in this app`, 'identifier');
    }
  }
}

/** Cron monitors need a valid schedule and timezone; heartbeats have neither. */
function checkTypeRules(
  type: MonitorType,
  fields: { schedule?: string | null | undefined; timezone?: string | null | undefined },
): { schedule: string | null; timezone: string | null } {
  if (type === 'heartbeat') {
    if (fields.schedule) throw new VigilError('invalid_field', 'schedule: only cron monitors have a schedule', 'schedule');
    if (fields.timezone) throw new VigilError('invalid_field', 'timezone: only cron monitors have a timezone', 'timezone');
    return { schedule: null, timezone: null };
  }
  if (!fields.schedule) throw new VigilError('missing_field', 'schedule: required for a cron monitor', 'schedule');
  const parsed = parseSchedule(fields.schedule, fields.timezone ?? 'UTC');
  return { schedule: parsed.expression, timezone: parsed.timezone };
}
