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
