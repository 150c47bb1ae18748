/**
 * Microsoft Teams: an Adaptive Card in a `message` envelope, the format both the Workflows
 * ("When a Teams webhook request is received") and the retired Office 365 connector webhooks take.
 */
import type { DeliveryOutcome, Notification } from '../types.js';
import { classifyStatus, describeAnswer, type Answer } from './http.js';
import { buildMessage, type Message } from './message.js';
import { webhookUrlChannel, type WebhookUrlConfig } from './webhook-url.js';

export type TeamsConfig = WebhookUrlConfig;

const COLORS: Readonly<Record<Message['kind'], string>> = { opened: 'Attention', resolved: 'Good', test: 'Accent' };

/** The Teams payload: `{ type: 'message', attachments: [ Adaptive Card 1.4 ] }`. */
export function teamsPayload(n: Notification, now?: number): Record<string, unknown> {
  const m = buildMessage(n, now);
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      { type: 'TextBlock', text: m.title, size: 'Medium', weight: 'Bolder', color: COLORS[m.kind], wrap: true },
      { type: 'TextBlock', text: m.summary, wrap: true },
      { type: 'FactSet', facts: m.facts.map((f) => ({ title: f.label, value: f.value })) },
    ],
    actions: [{ type: 'Action.OpenUrl', title: 'Open monitor', url: m.link }],
    msteams: { width: 'Full' },
  };
  return {
    type: 'message',
    summary: m.subject,
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}

/** Legacy connectors answer 200 with an error text instead of failing; take the status from it. */
function teamsOutcome({ status, text }: Answer, secrets: readonly string[]): DeliveryOutcome | undefined {
  const embedded = /returned HTTP error (\d{3})/i.exec(text);
  if (status >= 200 && status < 300 && embedded?.[1]) {
    const outcome = classifyStatus(Number(embedded[1]), describeAnswer({ status, text, location: null }, secrets));
    return { ...outcome, ok: false, status };
  }
  return undefined;
}

/** Microsoft Teams webhook channel. */
export const teamsChannel = webhookUrlChannel('teams', (n) => teamsPayload(n), {
  // Workflow URLs carry their signature in the query (`sig=…`), connector URLs in the path.
  secrets: (url) => [url.pathname, url.search],
  interpret: teamsOutcome,
});
