/**
 * Generic webhook (SPEC §5): a signed JSON POST. Receivers verify `Vigil-Signature` — an
 * HMAC-SHA256 of the exact body bytes — and de-duplicate retries by `Vigil-Delivery`.
 */
import { createHmac } from 'node:crypto';
import type { Channel, Notification } from '../types.js';
import { configObject, fieldError, maskUrlPath, stringField, urlField } from './fields.js';
import { guard, postAndClassify } from './http.js';

export interface WebhookConfig {
  readonly url: string;
  /** HMAC key, at least 16 characters. */
  readonly secret: string;
  /** Extra request headers (e.g. an Authorization the receiver wants). */
  readonly headers: Readonly<Record<string, string>>;
}

const MAX_HEADERS = 20;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Printable ASCII and tab only: anything else is either invalid in HTTP or read differently by each stack.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Headers Vigil sets itself; letting config override them would break the signature contract. */
const RESERVED = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw fieldError('headers', 'must be an object of header names to values');
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS) throw fieldError('headers', `at most ${MAX_HEADERS} headers`);
  const headers: Record<string, string> = {};
  for (const [name, raw] of entries) {
    const field = `headers.${name}`;
    if (!TOKEN.test(name)) throw fieldError(field, 'is not a valid header name');
    const lower = name.toLowerCase();
    if (RESERVED.has(lower) || lower.startsWith('vigil-')) throw fieldError(field, 'is set by Vigil and cannot be overridden');
    if (typeof raw !== 'string') throw fieldError(field, 'must be a string');
    if (raw.length > 1000 || !HEADER_VALUE.test(raw)) throw fieldError(field, 'must be at most 1000 printable ASCII characters');
    headers[name] = raw;
  }
  return headers;
}

/** The JSON body of SPEC §5, keys in a fixed order so the signed bytes are predictable. */
export function webhookBody(n: Notification): string {
  return JSON.stringify({
    event: n.event,
    incident: { id: n.incident.id, reason: n.incident.reason, opened_at: n.incident.opened_at, resolved_at: n.incident.resolved_at },
    monitor: { id: n.monitor.id, identifier: n.monitor.identifier, type: n.monitor.type, status: n.monitor.status, url: n.monitor.url },
    app: { id: n.app.id, name: n.app.name, environment: n.app.environment },
    occurrence: n.occurrence,
  });
}

/** `sha256=<hex>` of HMAC-SHA256 over the raw body. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The generic signed-JSON webhook channel. */
export const webhookChannel: Channel<WebhookConfig> = {
  type: 'webhook',

  parseConfig(config: unknown): WebhookConfig {
    const c = configObject(config, ['url', 'secret', 'headers']);
    return {
      url: urlField(c, 'url', true),
      // Refused rather than trimmed: the receiver signs with the secret byte for byte.
      secret: stringField(c, 'secret', true, { min: 16, max: 256, untrimmed: true, pattern: /^\S(.*\S)?$/s, hint: 'must not start or end with whitespace' }),
      headers: parseHeaders(c.headers),
    };
  },

  redact(config: WebhookConfig): Record<string, unknown> {
    return {
      // Hook relays (Zapier, n8n, Make…) put their secret in the path, so only the origin is shown.
      url: maskUrlPath(config.url),
      secret: '****',
      headers: Object.fromEntries(Object.keys(config.headers).map((name) => [name, '****'])),
    };
  },

  send(config: WebhookConfig, n: Notification) {
    return guard(() => {
      const body = webhookBody(n);
      return postAndClassify({
        url: config.url,
        body,
        headers: {
          ...config.headers,
          'content-type': 'application/json',
          'vigil-event': n.event,
          'vigil-delivery': n.deliveryId,
          'vigil-signature': signBody(body, config.secret),
        },
        secrets: [config.secret],
      });
    });
  },
};
