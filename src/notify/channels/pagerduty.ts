/**
 * PagerDuty Events API v2. One PagerDuty alert per Vigil incident: the dedup key is derived
 * from the incident id, so a retried trigger is merged and the resolve closes the same alert.
 */
import type { Channel, Notification } from '../types.js';
import { configObject, fieldError, maskSecret, stringField, urlField } from './fields.js';
import { guard, postAndClassify } from './http.js';
import { buildMessage, truncate } from './message.js';

export const PagerDutySeverities = ['critical', 'error', 'warning', 'info'] as const;
export type PagerDutySeverity = (typeof PagerDutySeverities)[number];

export interface PagerDutyConfig {
  /** The integration key of an Events API v2 integration. */
  readonly routing_key: string;
  readonly severity: PagerDutySeverity;
  /** Default `https://events.pagerduty.com` (EU accounts: `https://events.eu.pagerduty.com`). */
  readonly base_url: string;
}

export const PAGERDUTY_URL = 'https://events.pagerduty.com';

/** `vigil-incident-<id>`, or `vigil-test-<deliveryId>` so a test never merges into a real alert. */
export function dedupKey(n: Notification): string {
  return n.event === 'test' ? `vigil-test-${n.deliveryId}` : `vigil-incident-${n.incident.id}`;
}

/** The Events v2 body: a full `trigger`, or the minimal `resolve`. */
export function pagerDutyPayload(config: PagerDutyConfig, n: Notification, now?: number): Record<string, unknown> {
  if (n.event === 'incident.resolved') {
    return { routing_key: config.routing_key, event_action: 'resolve', dedup_key: dedupKey(n) };
  }
  const m = buildMessage(n, now);
  const details: Record<string, unknown> = {
    summary: m.summary,
    ...Object.fromEntries(m.facts.map((f) => [f.label.toLowerCase().replace(/\s+/g, '_'), f.value])),
    incident_id: n.incident.id,
    monitor_id: n.monitor.id,
    monitor_url: n.monitor.url,
  };
  return {
    routing_key: config.routing_key,
    event_action: 'trigger',
    dedup_key: dedupKey(n),
    client: 'Vigil',
    client_url: n.monitor.url,
    payload: {
      // PagerDuty cuts summaries at 1024 characters; the subject reads best on a phone.
      summary: truncate(m.subject.replace(/^\[Vigil\] /, ''), 1024),
      source: 'vigil',
      severity: n.event === 'test' ? 'info' : config.severity,
      timestamp: n.incident.opened_at,
      component: n.monitor.identifier,
      group: `${n.app.name} ${n.app.environment}`,
      class: n.event === 'test' ? 'test' : n.incident.reason,
      custom_details: details,
    },
    links: [{ href: n.monitor.url, text: 'Monitor' }],
  };
}

/** PagerDuty Events API v2 channel. */
export const pagerDutyChannel: Channel<PagerDutyConfig> = {
  type: 'pagerduty',
  parseConfig(config: unknown): PagerDutyConfig {
    const c = configObject(config, ['routing_key', 'severity', 'base_url']);
    const routing_key = stringField(c, 'routing_key', true, {
      max: 128,
      pattern: /^[A-Za-z0-9_-]+$/,
      hint: 'must be the integration key of an Events API v2 integration (letters and digits)',
    });
    const severity = stringField(c, 'severity', false) ?? 'error';
    if (!(PagerDutySeverities as readonly string[]).includes(severity)) {
      throw fieldError('severity', `must be one of ${PagerDutySeverities.join(', ')}`);
    }
    return { routing_key, severity: severity as PagerDutySeverity, base_url: urlField(c, 'base_url', false, false) ?? PAGERDUTY_URL };
  },
  redact(config: PagerDutyConfig): Record<string, unknown> {
    return { routing_key: maskSecret(config.routing_key), severity: config.severity, base_url: config.base_url };
  },
  send(config: PagerDutyConfig, n: Notification) {
    return guard(() =>
      postAndClassify({
        url: `${config.base_url}/v2/enqueue`,
        body: JSON.stringify(pagerDutyPayload(config, n)),
        headers: { 'content-type': 'application/json' },
        secrets: [config.routing_key],
      }),
    );
  },
};
