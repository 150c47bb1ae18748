/**
 * Slack incoming webhook: `text` is the fallback Slack shows in notifications, `blocks` the
 * message itself (header, summary, facts, a button to the monitor). Slack-compatible relays
 * (Mattermost, Rocket.Chat) read the same `text`.
 */
import type { Notification } from '../types.js';
import { buildMessage, truncate, type Message } from './message.js';
import { webhookUrlChannel, type WebhookUrlConfig } from './webhook-url.js';

export type SlackConfig = WebhookUrlConfig;

/** Escapes the three characters Slack mrkdwn treats as control characters. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const EMOJI: Readonly<Record<Message['kind'], string>> = { opened: ':rotating_light:', resolved: ':white_check_mark:', test: ':test_tube:' };

const isHttpUrl = (url: string): boolean => /^https?:\/\/\S+$/i.test(url);

/** The Slack payload: `{ text, blocks }`, within Slack's per-block length limits. */
export function slackPayload(n: Notification, now?: number): Record<string, unknown> {
  const m = buildMessage(n, now);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${EMOJI[m.kind]} ${m.title}`, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(escapeSlack(m.summary), 3000) } },
    {
      type: 'section',
      fields: m.facts.slice(0, 10).map((f) => ({ type: 'mrkdwn', text: truncate(`*${escapeSlack(f.label)}*\n${escapeSlack(f.value)}`, 2000) })),
    },
  ];
  if (isHttpUrl(m.link) && m.link.length <= 3000) {
    const button: Record<string, unknown> = { type: 'button', text: { type: 'plain_text', text: 'Open monitor' }, url: m.link };
    if (m.kind === 'opened') button.style = 'danger';
    blocks.push({ type: 'actions', elements: [button] });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(`Vigil · ${escapeSlack(m.link)}`, 3000) }] });
  return { text: truncate(escapeSlack(`${m.title}: ${m.summary}`), 3000), blocks };
}

/** Slack incoming-webhook channel. */
export const slackChannel = webhookUrlChannel('slack', (n) => slackPayload(n));
