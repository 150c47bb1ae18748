import type { CronSchedule } from '../monitors/schedule.js';
import type { IncidentReason } from '../notify/types.js';

export const OccurrenceStatuses = ['running', 'success', 'late', 'missed', 'failed', 'unknown'] as const;
export type OccurrenceStatus = (typeof OccurrenceStatuses)[number];
export const FailedStatuses: readonly OccurrenceStatus[] = ['late', 'missed', 'failed'];

/** What the decision needs of a monitor's configuration. Durations in ms. */
export interface EvaluatedMonitor {
  readonly type: 'cron' | 'heartbeat';
  /** Cron only. */
  readonly schedule: CronSchedule | null;
  readonly maxDuration: number;
  readonly failureThreshold: number;
  readonly recoveryThreshold: number;
  readonly paused: boolean;
}

/** The evaluator's memory of one monitor between passes. Times are epoch ms. */
export interface MonitorState {
  /** Cron: the latest tick that has an occurrence (or was skipped); null until the first event. */
  readonly ticksThrough: number | null;
  /** Nothing before this instant is judged (set on resume and on schedule changes). */
  readonly armedFrom: number | null;
  /** Whether any check-in was ever received (`new` monitors never alert). */
  readonly armed: boolean;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** The open incident, if any. */
  readonly openIncident: { readonly id: number } | null;
  readonly lastSuccessAt: number | null;
  readonly lastFailureAt: number | null;
}

export interface Occurrence {
  /** Database id; null for one created by this decision. */
  readonly id: number | null;
  /** Cron: the schedule tick. Heartbeat: the beat that opened it. */
  readonly expectedAt: number;
  /** End of the window: expectedAt + max_duration. */
  readonly deadline: number;
  readonly status: OccurrenceStatus;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly digest: string | null;
}

/** A check-in event as the evaluator sees it; `timestamp` is the (skew-corrected) client time in ms. */
export interface EvaluatedEvent {
  readonly id: number;
  readonly kind: 'start' | 'finish' | 'fail' | null;
  readonly digest: string | null;
  readonly timestamp: number;
}

/** An interval during which Vigil could not receive check-ins (down, or the monitor paused). */
export interface Blackout {
  readonly from: number;
  readonly to: number;
}

export interface DecisionInput {
  readonly monitor: EvaluatedMonitor;
  readonly state: MonitorState;
  /** Occurrences still open or recently closed, any order. */
  readonly occurrences: readonly Occurrence[];
  /** Events not yet evaluated, any order. */
  readonly events: readonly EvaluatedEvent[];
  readonly now: number;
  /** How long after a deadline to wait for in-flight events (VIGIL_INGEST_TOLERANCE). */
  readonly tolerance: number;
  readonly blackouts: readonly Blackout[];
}

/** An occurrence the decision created or changed, with a key to refer to it. */
export interface ChangedOccurrence extends Occurrence {
  /** Index into `Decision.occurrences`, stable within one decision. */
  readonly key: number;
  readonly previousStatus: OccurrenceStatus | null;
  /** False for occurrences passed in and left untouched. */
  readonly changed: boolean;
}

export interface IncidentChange {
  readonly action: 'open' | 'resolve';
  readonly reason: IncidentReason;
  readonly at: number;
  /** `Decision.occurrences[occurrenceKey]` caused it. */
  readonly occurrenceKey: number;
}

export interface Decision {
  readonly occurrences: ChangedOccurrence[];
  readonly state: MonitorState;
  readonly incidents: IncidentChange[];
  /** When the evaluator must look at this monitor again, without new events; null: never. */
  readonly nextCheckAt: number | null;
  readonly status: 'new' | 'paused' | OccurrenceStatus;
}
