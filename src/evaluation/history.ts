import { VigilError, notFound } from '../errors.js';
import { occurrenceView } from '../notify/payload.js';
import type { Store } from '../store/index.js';
import { iso, pageOf, type Page, type PageOf } from '../store/pagination.js';
import { OccurrenceStatuses } from './types.js';

export interface IncidentView {
  id: string;
  monitor_id: string;
  reason: string;
  opened_at: string | null;
  resolved_at: string | null;
  state: 'open' | 'resolved';
}

const incidentView = (r: { id: number; monitor_id: number; reason: string; opened_at: number; resolved_at: number | null }): IncidentView => ({
  id: String(r.id),
  monitor_id: String(r.monitor_id),
  reason: r.reason,
  opened_at: iso(Number(r.opened_at)),
  resolved_at: r.resolved_at === null ? null : iso(Number(r.resolved_at)),
  state: r.resolved_at === null ? 'open' : 'resolved',
});

function time(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new VigilError('invalid_field', `${field}: not an ISO-8601 time: "${value}"`, field);
  return t;
}

/** Reading back what the evaluator decided: occurrences, incidents, deliveries. */
export class EvaluationHistory {
  constructor(private readonly store: Store) {}

  /** A monitor's occurrences, newest first. */
  async occurrences(monitorId: number, filter: { status?: string | undefined; from?: string | undefined; to?: string | undefined }, page: Page) {
    await this.assertMonitor(monitorId);
    if (filter.status && !(OccurrenceStatuses as readonly string[]).includes(filter.status)) {
      throw new VigilError('invalid_field', `status: expected one of ${OccurrenceStatuses.join(', ')}`, 'status');
    }
    const from = time(filter.from, 'from');
    const to = time(filter.to, 'to');
    let query = this.store.db.selectFrom('occurrences').selectAll().where('monitor_id', '=', monitorId).orderBy('id', 'desc').limit(page.limit + 1);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (from !== undefined) query = query.where('expected_at', '>=', from);
    if (to !== undefined) query = query.where('expected_at', '<', to);
    if (page.before !== undefined) query = query.where('id', '<', page.before);
    return pageOf(await query.execute(), page, (r) =>
      occurrenceView({
        id: r.id,
        status: r.status,
        expected_at: Number(r.expected_at),
        deadline: Number(r.deadline),
        started_at: r.started_at === null ? null : Number(r.started_at),
        finished_at: r.finished_at === null ? null : Number(r.finished_at),
        digest: r.digest,
      }),
    );
  }

  /** Incidents, newest first, optionally of one monitor and in one state. */
  async incidents(filter: { monitorId?: number | undefined; state?: string | undefined }, page: Page): Promise<PageOf<IncidentView>> {
    let query = this.store.db.selectFrom('incidents').selectAll().orderBy('id', 'desc').limit(page.limit + 1);
    if (filter.monitorId !== undefined) query = query.where('monitor_id', '=', filter.monitorId);
    if (filter.state === 'open') query = query.where('resolved_at', 'is', null);
    else if (filter.state === 'resolved') query = query.where('resolved_at', 'is not', null);
    else if (filter.state !== undefined) throw new VigilError('invalid_field', 'state: expected open or resolved', 'state');
    if (page.before !== undefined) query = query.where('id', '<', page.before);
    return pageOf(await query.execute(), page, incidentView);
  }

  async incident(id: number): Promise<IncidentView> {
    const row = await this.store.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`incident ${id}`);
    return incidentView(row);
  }

  /** Every notification of an incident, each with its attempts and their outcomes. */
  async deliveries(incidentId: number) {
    await this.incident(incidentId);
    const deliveries = await this.store.db.selectFrom('deliveries').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute();
    const attempts =
      deliveries.length === 0
        ? []
        : await this.store.db.selectFrom('delivery_attempts').selectAll().where('delivery_id', 'in', deliveries.map((d) => d.id)).orderBy('id').execute();
    return {
      data: deliveries.map((d) => ({
        id: d.uid,
        notifier_id: String(d.notifier_id),
        event: d.event,
        status: d.status,
        attempts: attempts
          .filter((a) => a.delivery_id === d.id)
          .map((a) => ({ at: iso(Number(a.attempted_at)), ok: a.ok === 1, status_code: a.status_code, detail: a.detail, duration_ms: a.duration_ms })),
        next_attempt_at: d.status === 'pending' ? iso(Number(d.next_attempt_at)) : null,
        created_at: iso(Number(d.created_at)),
        delivered_at: d.delivered_at === null ? null : iso(Number(d.delivered_at)),
        last_error: d.last_error,
      })),
      next_cursor: null,
    };
  }

  private async assertMonitor(id: number): Promise<void> {
    if (!(await this.store.db.selectFrom('monitors').select('id').where('id', '=', id).executeTakeFirst())) throw notFound(`monitor ${id}`);
  }
}
