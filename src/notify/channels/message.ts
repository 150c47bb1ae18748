/**
 * The plain-words text every channel sends: what happened, to which job, in which schedule
 * slot, how late, the last success and a link. Each piece is a small pure function so the
 * wording can be tested without a channel; channels only choose a layout.
 */
import type { IncidentReason, Notification } from '../types.js';

/** One labelled line ("Last success: never"), rendered as a field, fact or table row. */
export interface Fact {
  readonly label: string;
  readonly value: string;
}

/** The channel-independent content of one notification. */
export interface Message {
  /** `opened` drives alarm colours and priorities; `resolved` and `test` stay calm. */
  readonly kind: 'opened' | 'resolved' | 'test';
  /** Short headline without the app, e.g. `nightly-backup missed its 02:30 run`. */
  readonly title: string;
  /** Email subject / push title, e.g. `[Vigil] nightly-backup missed its 02:30 run (Acme production)`. */
  readonly subject: string;
  /** One or two sentences that stand on their own. */
  readonly summary: string;
  readonly facts: readonly Fact[];
  /** The monitor's page in Vigil. */
  readonly link: string;
}

type Occurrence = NonNullable<Notification['occurrence']>;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The monitor's zone as its owner wrote it (`Europe/Kyiv`), when Intl knows it; else UTC (heartbeats have no zone). */
export function displayZone(timezone: string | null): string {
  if (timezone === null) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return timezone;
  } catch {
    return 'UTC';
  }
}

/** Wall-clock date (`2026-03-29`) and time (`02:30`) of an ISO instant in `timeZone`. */
export function localParts(iso: string, timeZone: string): { date: string; time: string } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(new Date(iso))) parts[part.type] = part.value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

/** `2026-03-29 02:30 (Europe/Amsterdam)`. */
export function formatDateTime(iso: string, timeZone: string): string {
  const { date, time } = localParts(iso, timeZone);
  return `${date} ${time} (${timeZone})`;
}

/** `03:00`, or `00:10 on 2026-03-30` when the day differs from `sameDayAs`. */
export function formatClock(iso: string, timeZone: string, sameDayAs: string): string {
  const { date, time } = localParts(iso, timeZone);
  return date === localParts(sameDayAs, timeZone).date ? time : `${time} on ${date}`;
}

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** Human duration, two units at most: `45 seconds`, `12 minutes`, `1 hour 5 minutes`, `2 days 3 hours`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return plural(seconds, 'second');
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(minutes % 60, 'minute')}`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? plural(days, 'day') : `${plural(days, 'day')} ${plural(hours % 24, 'hour')}`;
}

/** A limit as an adjective in its largest whole unit: 300 → `5 minute`, 5400 → `90 minute`. */
export function formatLimit(seconds: number): string {
  if (seconds > 0 && seconds % 86_400 === 0) return `${seconds / 86_400} day`;
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600} hour`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60} minute`;
  return `${seconds} second`;
}

const ms = (iso: string): number => Date.parse(iso);

/** `nightly-backup (Acme production)`. */
export function jobLabel(n: Notification): string {
  return `${n.monitor.identifier} (${n.app.name} ${n.app.environment})`;
}

/** `its 02:30 run`, with `(Europe/Amsterdam) on 2026-03-29` when `full`; null without a cron slot. */
export function slotPhrase(n: Notification, full: boolean): string | null {
  if (n.monitor.type !== 'cron' || !n.occurrence) return null;
  const zone = displayZone(n.monitor.timezone);
  const { date, time } = localParts(n.occurrence.expected_at, zone);
  return full ? `its ${time} run (${zone}) on ${date}` : `its ${time} run`;
}

/** What the job did, after its name: `missed its 02:30 run`, `stopped sending heartbeats`. */
export function headlineVerb(reason: IncidentReason, type: 'cron' | 'heartbeat', slot: string | null): string {
  if (type === 'heartbeat') {
    return reason === 'failed' ? 'reported a failure' : reason === 'late' ? 'sent a late heartbeat' : 'stopped sending heartbeats';
  }
  const run = slot ?? 'a run';
  switch (reason) {
    case 'missed':
      return `missed ${run}`;
    case 'late':
      return `was late with ${run}`;
    case 'failed':
      return `failed ${run}`;
    case 'timeout':
      return `did not finish ${run}`;
  }
}

/** `; it is 15 minutes overdue`, or nothing when the deadline has not passed (clock skew). */
function overdue(deadline: string, now: number): string {
  const late = now - ms(deadline);
  return late >= 1000 ? `; it is ${formatDuration(late)} overdue` : '';
}

/** Why a cron incident opened, in plain words: `did not report a finish by 03:00; it is 5 minutes overdue`. */
export function cronReason(reason: IncidentReason, o: Occurrence | null, timeZone: string, now: number): string {
  if (!o) return { missed: 'did not report in time', late: 'finished late', failed: 'reported a failure', timeout: 'never finished' }[reason];
  const at = (iso: string): string => formatClock(iso, timeZone, o.expected_at);
  switch (reason) {
    case 'missed':
      return `did not report a finish by ${at(o.deadline)}${overdue(o.deadline, now)}`;
    case 'late':
      return o.finished_at
        ? `finished ${formatDuration(ms(o.finished_at) - ms(o.deadline))} after its deadline (${at(o.deadline)})`
        : `finished after its deadline (${at(o.deadline)})`;
    case 'failed': {
      const when = o.finished_at ? ` at ${at(o.finished_at)}` : '';
      const ran = o.duration !== null ? ` after running for ${formatDuration(o.duration * 1000)}` : '';
      return `reported a failure (kind=fail)${when}${ran}`;
    }
    case 'timeout':
      return o.started_at
        ? `started at ${at(o.started_at)} but never finished (deadline ${at(o.deadline)})${overdue(o.deadline, now)}`
        : `never finished (deadline ${at(o.deadline)})${overdue(o.deadline, now)}`;
  }
}

/** Why a heartbeat incident opened: `has been silent since …, longer than its 5 minute limit`. */
export function heartbeatReason(n: Notification, now: number): string {
  const limit = `its ${formatLimit(n.monitor.max_duration)} limit`;
  const last = n.occurrence?.expected_at ?? null;
  if (n.incident.reason === 'failed') return 'reported a failure';
  if (!last) return `has sent no heartbeat within ${limit}`;
  const silent = now - ms(last);
  const zone = displayZone(n.monitor.timezone);
  return `has been silent since ${formatDateTime(last, zone)}, longer than ${limit}${silent > 0 ? ` (silent for ${formatDuration(silent)})` : ''}`;
}

/** The reason clause for the incident in `n`, for either monitor type. */
export function reasonPhrase(n: Notification, now: number): string {
  return n.monitor.type === 'heartbeat'
    ? heartbeatReason(n, now)
    : cronReason(n.incident.reason, n.occurrence, displayZone(n.monitor.timezone), now);
}

/** `2026-03-28 02:31 (Europe/Amsterdam)` or `never`. */
export function lastSuccessPhrase(n: Notification): string {
  return n.monitor.last_success_at ? formatDateTime(n.monitor.last_success_at, displayZone(n.monitor.timezone)) : 'never';
}

const REASON_NOUNS: Readonly<Record<IncidentReason, string>> = {
  missed: 'a missed run',
  late: 'a late run',
  failed: 'a failed run',
  timeout: 'a run that never finished',
};

/** How long the incident lasted, from opened_at to resolved_at (or `now` if unresolved). */
export function lastedPhrase(n: Notification, now: number): string {
  return formatDuration((n.incident.resolved_at ? ms(n.incident.resolved_at) : now) - ms(n.incident.opened_at));
}

/** The resolved sentence: `… recovered: its 03:30 run … succeeded. The incident (a missed run) lasted 1 hour.` */
export function recoveredSentence(n: Notification, now: number): string {
  const slot = slotPhrase(n, true);
  const what = n.monitor.type === 'heartbeat' ? 'missed heartbeats' : REASON_NOUNS[n.incident.reason];
  let how = '';
  if (slot) how = `: ${slot} succeeded`;
  else if (n.monitor.type === 'heartbeat' && n.occurrence) {
    how = `: it sent a heartbeat at ${formatDateTime(n.occurrence.expected_at, displayZone(n.monitor.timezone))}`;
  }
  return `${jobLabel(n)} recovered${how}. The incident (${what}) lasted ${lastedPhrase(n, now)}.`;
}

/** Removes control characters so a name can go into a header or a one-line title. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

/** Shortens to `max` characters with an ellipsis, for services with field limits. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Builds the whole message; `now` (epoch ms) only feeds "overdue" and "silent for". */
export function buildMessage(n: Notification, now: number = Date.now()): Message {
  const zone = displayZone(n.monitor.timezone);
  const app = `${n.app.name} ${n.app.environment}`;
  const facts: Fact[] = [
    { label: 'Job', value: n.monitor.identifier },
    { label: 'App', value: `${n.app.name} (${n.app.environment})` },
  ];
  if (n.monitor.type === 'cron' && n.occurrence && n.event !== 'test') {
    const { date, time } = localParts(n.occurrence.expected_at, zone);
    facts.push({ label: 'Schedule slot', value: `${time} on ${date} (${zone})` });
  }
  if (n.monitor.schedule) facts.push({ label: 'Schedule', value: `${n.monitor.schedule} (${zone})` });

  let kind: Message['kind'];
  let title: string;
  let summary: string;
  if (n.event === 'test') {
    kind = 'test';
    title = `Test: ${n.monitor.identifier}`;
    summary = `This is a test notification from Vigil for ${jobLabel(n)}. Nothing is wrong; it confirms that this channel works.`;
  } else if (n.event === 'incident.resolved') {
    kind = 'resolved';
    title = `Resolved: ${n.monitor.identifier}`;
    summary = recoveredSentence(n, now);
    facts.push({ label: 'Incident lasted', value: lastedPhrase(n, now) });
  } else {
    kind = 'opened';
    const reason = reasonPhrase(n, now);
    title = `${n.monitor.identifier} ${headlineVerb(n.incident.reason, n.monitor.type, slotPhrase(n, false))}`;
    summary =
      n.monitor.type === 'heartbeat'
        ? `${jobLabel(n)} ${reason}.`
        : `${jobLabel(n)} ${headlineVerb(n.incident.reason, 'cron', slotPhrase(n, true))}: it ${reason}.`;
    facts.push({ label: 'Reason', value: reason });
  }
  facts.push({ label: 'Last success', value: lastSuccessPhrase(n) });
  const subject = oneLine(`[Vigil] ${title} (${app})`);
  return { kind, title: oneLine(title), subject, summary, facts, link: n.monitor.url };
}

/** Plain-text rendering (email text part, ntfy body): summary, facts, link. */
export function renderText(message: Message): string {
  const facts = message.facts.map((f) => `${f.label}: ${f.value}`).join('\n');
  return `${message.summary}\n\n${facts}\n\nOpen monitor: ${message.link}`;
}

/** Escapes `&`, `<`, `>` and quotes for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
