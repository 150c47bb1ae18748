/**
 * ntfy: the plain text is the body, everything else travels in headers (Title, Priority,
 * Tags, Click). Non-ASCII header values are RFC 2047 encoded, which ntfy decodes.
 */
import type { Channel, Notification } from '../types.js';
import { configObject, fieldError, maskSecret, stringField, urlField } from './fields.js';
import { guard, postAndClassify } from './http.js';
import { buildMessage, renderText, type Message } from './message.js';

export const NtfyAlarmPriorities = ['urgent', 'high'] as const;

export interface NtfyConfig {
  /** Default `https://ntfy.sh`; a self-hosted server works the same. */
  readonly server_url: string;
  readonly topic: string;
  /** Access token (`tk_…`) for protected topics. */
  readonly token: string | undefined;
  /** Priority of `incident.opened` messages: `urgent` (default) or `high`. */
  readonly priority: (typeof NtfyAlarmPriorities)[number];
}

export const NTFY_URL = 'https://ntfy.sh';
const TAGS: Readonly<Record<Message['kind'], string>> = { opened: 'rotating_light', resolved: 'white_check_mark', test: 'test_tube' };

/** Header-safe text: ASCII as is, anything else as an RFC 2047 encoded word. */
export function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The headers and body of one ntfy publish request. */
export function ntfyRequest(config: NtfyConfig, n: Notification, now?: number): { headers: Record<string, string>; body: string } {
  const m = buildMessage(n, now);
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    title: encodeHeader(m.subject.replace(/^\[Vigil\] /, '')),
    priority: m.kind === 'opened' ? config.priority : 'default',
    tags: TAGS[m.kind],
  };
  if (/^https?:\/\/[\x21-\x7e]+$/.test(m.link)) headers.click = m.link;
  if (config.token) headers.authorization = `Bearer ${config.token}`;
  return { headers, body: renderText(m) };
}

/** ntfy publish channel. */
export const ntfyChannel: Channel<NtfyConfig> = {
  type: 'ntfy',
  parseConfig(config: unknown): NtfyConfig {
    const c = configObject(config, ['server_url', 'topic', 'token', 'priority']);
    const priority = stringField(c, 'priority', false) ?? 'urgent';
    if (!(NtfyAlarmPriorities as readonly string[]).includes(priority)) throw fieldError('priority', 'must be urgent or high');
    return {
      server_url: urlField(c, 'server_url', false, false) ?? NTFY_URL,
      // ntfy's own topic rule: 1-64 of letters, digits, - and _.
      topic: stringField(c, 'topic', true, { max: 64, pattern: /^[-_A-Za-z0-9]+$/, hint: 'must be 1-64 letters, digits, - or _' }),
      token: stringField(c, 'token', false, { max: 256, pattern: /^[\x21-\x7e]+$/, hint: 'must be printable ASCII without spaces' }),
      priority: priority as NtfyConfig['priority'],
    };
  },
  redact(config: NtfyConfig): Record<string, unknown> {
    const redacted: Record<string, unknown> = { server_url: config.server_url, topic: config.topic, priority: config.priority };
    if (config.token) redacted.token = maskSecret(config.token);
    return redacted;
  },
  send(config: NtfyConfig, n: Notification) {
    return guard(() => {
      const { headers, body } = ntfyRequest(config, n);
      return postAndClassify({ url: `${config.server_url}/${config.topic}`, body, headers, secrets: config.token ? [config.token] : [] });
    });
  },
};
