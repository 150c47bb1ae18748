/**
 * Discord webhook: one embed (red when an incident opens, green when it resolves) holding the
 * summary, the facts as fields and a link. Mentions are disabled so a job called `@everyone`
 * cannot ping a whole server.
 */
import type { Notification } from '../types.js';
import { buildMessage, truncate, type Message } from './message.js';
import { webhookUrlChannel, type WebhookUrlConfig } from './webhook-url.js';

export type DiscordConfig = WebhookUrlConfig;

export const DiscordColors: Readonly<Record<Message['kind'], number>> = { opened: 0xd93f3f, resolved: 0x2eb67d, test: 0x5865f2 };

/** Backslash-escapes Discord markdown so identifiers like `backup_*_daily` show as typed. */
export function escapeDiscord(text: string): string {
  return text.replace(/([\\*_~`|])/g, '\\$1');
}

/** The Discord payload: `{ content: null, embeds: [ … ] }`, within Discord's embed limits. */
export function discordPayload(n: Notification, now?: number): Record<string, unknown> {
  const m = buildMessage(n, now);
  const embed: Record<string, unknown> = {
    title: truncate(m.title, 256),
    description: truncate(escapeDiscord(m.summary), 4096),
    color: DiscordColors[m.kind],
    fields: m.facts.slice(0, 25).map((f) => ({
      name: truncate(f.label, 256),
      value: truncate(escapeDiscord(f.value), 1024),
      inline: f.value.length <= 40,
    })),
    timestamp: n.event === 'incident.resolved' ? (n.incident.resolved_at ?? n.incident.opened_at) : n.incident.opened_at,
    footer: { text: 'Vigil' },
  };
  // Discord rejects the whole message when the embed URL is not http(s).
  if (/^https?:\/\/\S+$/i.test(m.link)) embed.url = m.link;
  return { content: null, embeds: [embed], allowed_mentions: { parse: [] } };
}

/** Discord webhook channel. */
export const discordChannel = webhookUrlChannel('discord', (n) => discordPayload(n));
