import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Table types. Times are epoch milliseconds (bigint columns), booleans are 0/1 integers
 * and lists are JSON text, so the same rows work on SQLite and PostgreSQL unchanged.
 */
export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  apps: AppsTable;
  monitors: MonitorsTable;
  check_in_events: CheckInEventsTable;
  ingest_errors: IngestErrorsTable;
  catalog_version: { id: number; version: number };
  occurrences: OccurrencesTable;
  incidents: IncidentsTable;
  notifiers: NotifiersTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  evaluator_cursor: { id: number; last_event_id: number };
  instances: { id: string; started_at: number; last_seen: number };
  blackouts: { id: Generated<number>; from_at: number; to_at: number };
}

export interface OccurrencesTable {
  id: Generated<number>;
  monitor_id: number;
  expected_at: number;
  deadline: number;
  status: string;
  started_at: number | null;
  finished_at: number | null;
  digest: string | null;
  updated_at: number;
}

export interface IncidentsTable {
  id: Generated<number>;
  monitor_id: number;
  reason: string;
  opened_at: number;
  resolved_at: number | null;
  opened_occurrence_id: number | null;
  resolved_occurrence_id: number | null;
}

export interface NotifiersTable {
  id: Generated<number>;
  type: string;
  name: string;
  config: string;
  created_at: number;
  updated_at: number;
}

export interface DeliveriesTable {
  id: Generated<number>;
  uid: string;
  notifier_id: number;
  incident_id: number | null;
  event: string;
  payload: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  claimed_until: number | null;
  created_at: number;
  delivered_at: number | null;
  last_error: string | null;
}

export interface DeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempted_at: number;
  ok: number;
  status_code: number | null;
  detail: string;
  duration_ms: number;
}

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  role: string;
  created_at: number;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface AppsTable {
  id: Generated<number>;
  name: string;
  environment: string;
  push_key_hash: string;
  created_at: number;
  updated_at: number;
}

export interface MonitorsTable {
  id: Generated<number>;
  app_id: number;
  identifier: string;
  type: string;
  schedule: string | null;
  timezone: string | null;
  max_duration: number;
  description: string;
  tags: string;
  notifier_ids: string;
  failure_threshold: number;
  recovery_threshold: number;
  paused: number;
  created_at: number;
  updated_at: number;
  status: Generated<string>;
  next_check_at: number | null;
  ticks_through: number | null;
  armed_from: number | null;
  armed: Generated<number>;
  consecutive_failures: Generated<number>;
  consecutive_successes: Generated<number>;
  open_incident_id: number | null;
  last_success_at: number | null;
  last_failure_at: number | null;
}

export interface CheckInEventsTable {
  id: Generated<number>;
  monitor_id: number;
  check_in_type: string;
  kind: string | null;
  digest: string | null;
  /** Client timestamp, epoch seconds (the receive time when the client sent none). */
  timestamp: number;
  received_at: number;
  hostname: string | null;
  exit_code: number | null;
  output: string | null;
  /** The client's timestamp when it was replaced by the receive time (too far off). */
  client_timestamp: number | null;
}

export interface IngestErrorsTable {
  id: Generated<number>;
  app_id: number;
  identifier: string | null;
  code: string;
  message: string;
  line: number | null;
  received_at: number;
}

export type UserRow = Selectable<UsersTable>;
export type AppRow = Selectable<AppsTable>;
export type MonitorRow = Selectable<MonitorsTable>;
export type NewMonitorRow = Insertable<MonitorsTable>;
export type MonitorUpdate = Updateable<MonitorsTable>;
export type CheckInEventRow = Selectable<CheckInEventsTable>;
export type NewCheckInEvent = Insertable<CheckInEventsTable>;
export type IngestErrorRow = Selectable<IngestErrorsTable>;
export type NewIngestError = Insertable<IngestErrorsTable>;
