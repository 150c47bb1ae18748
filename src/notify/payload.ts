import type { AppRow, MonitorRow } from '../store/index.js';
import { iso } from '../store/pagination.js';
import type { IncidentReason, Notification, NotificationEvent } from './types.js';

export interface OccurrenceFacts {
  readonly id: number;
  readonly status: string;
  readonly expected_at: number;
  readonly deadline: number;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly digest: string | null;
}

/** The public view of an occurrence (REST and notifications): ISO times, duration in seconds. */
export function occurrenceView(o: OccurrenceFacts) {
  return {
    id: String(o.id),
    status: o.status,
    expected_at: iso(o.expected_at)!,
    deadline: iso(o.deadline)!,
    started_at: iso(o.started_at),
    finished_at: iso(o.finished_at),
    duration: o.started_at !== null && o.finished_at !== null ? Math.max(0, Math.round((o.finished_at - o.started_at) / 1000)) : null,
    digest: o.digest,
  };
}

/** A notification as stored in the outbox: a snapshot taken when the incident changed. */
export function buildNotification(input: {
  event: NotificationEvent;
  deliveryId: string;
  incident: { id: number; reason: IncidentReason; opened_at: number; resolved_at: number | null };
  monitor: MonitorRow;
  status: string;
  lastSuccessAt: number | null;
  app: Pick<AppRow, 'id' | 'name' | 'environment'>;
  occurrence: OccurrenceFacts | null;
  baseUrl: string;
}): Notification {
  const { monitor } = input;
  return {
    event: input.event,
    deliveryId: input.deliveryId,
    incident: {
      id: String(input.incident.id),
      reason: input.incident.reason,
      opened_at: iso(input.incident.opened_at)!,
      resolved_at: iso(input.incident.resolved_at),
    },
    monitor: {
      id: String(monitor.id),
      identifier: monitor.identifier,
      type: monitor.type === 'heartbeat' ? 'heartbeat' : 'cron',
      status: input.status,
      url: `${input.baseUrl}/monitors/${monitor.id}`,
      schedule: monitor.schedule,
      timezone: monitor.timezone,
      max_duration: monitor.max_duration,
      last_success_at: iso(input.lastSuccessAt),
    },
    app: { id: String(input.app.id), name: input.app.name, environment: input.app.environment },
    occurrence: input.occurrence ? occurrenceView(input.occurrence) : null,
  };
}
