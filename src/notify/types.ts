/**
 * What a notification says, independent of the channel. Built by the delivery worker
 * from the incident, its monitor, app and the occurrence that caused it.
 */
export const NotificationEvents = ['incident.opened', 'incident.resolved', 'test'] as const;
export type NotificationEvent = (typeof NotificationEvents)[number];

export const IncidentReasons = ['missed', 'late', 'failed', 'timeout'] as const;
export type IncidentReason = (typeof IncidentReasons)[number];

export interface Notification {
  readonly event: NotificationEvent;
  /** Stable per delivery: a retry repeats it (the `Vigil-Delivery` header, PagerDuty dedup, …). */
  readonly deliveryId: string;
  readonly incident: {
    readonly id: string;
    readonly reason: IncidentReason;
    /** ISO-8601 UTC */
    readonly opened_at: string;
    readonly resolved_at: string | null;
  };
  readonly monitor: {
    readonly id: string;
    readonly identifier: string;
    readonly type: 'cron' | 'heartbeat';
    readonly status: string;
    /** Link to the monitor (VIGIL_BASE_URL + path). */
    readonly url: string;
    readonly schedule: string | null;
    readonly timezone: string | null;
    readonly max_duration: number;
    /** ISO-8601 UTC of the last successful occurrence, or null. */
    readonly last_success_at: string | null;
  };
  readonly app: { readonly id: string; readonly name: string; readonly environment: string };
  /** The occurrence that opened or resolved the incident. */
  readonly occurrence: {
    readonly id: string;
    readonly status: string;
    /** The schedule slot (cron tick) or, for heartbeats, the last beat: ISO-8601 UTC. */
    readonly expected_at: string;
    readonly deadline: string;
    readonly started_at: string | null;
    readonly finished_at: string | null;
    /** Seconds the run took, when it started and finished. */
    readonly duration: number | null;
    readonly digest: string | null;
  } | null;
}

/** The result of one attempt to deliver through a channel. */
export interface DeliveryOutcome {
  readonly ok: boolean;
  /** HTTP status or SMTP reply code, when there was one. */
  readonly status: number | null;
  /** Why it failed (or a short summary of the answer). */
  readonly detail: string;
  /** True when retrying cannot help (e.g. 400 Bad Request, 401, 404 of a webhook URL). */
  readonly permanent?: boolean;
}

/** A channel: validates its settings and sends one notification. */
export interface Channel<Config> {
  readonly type: string;
  /** Validates and normalises settings; throws VigilError('invalid_field', 'config.x: …', 'config.x'). */
  parseConfig(config: unknown): Config;
  /** Settings safe to show back through the API (secrets masked). */
  redact(config: Config): Record<string, unknown>;
  send(config: Config, notification: Notification): Promise<DeliveryOutcome>;
}
