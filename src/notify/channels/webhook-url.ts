/**
 * What Slack, Discord and Microsoft Teams have in common: one webhook URL, which is itself
 * the secret, taking a JSON payload.
 */
import type { Channel, DeliveryOutcome, Notification } from '../types.js';
import { configObject, maskUrlPath, urlField } from './fields.js';
import { guard, isAnswer, outcomeOf, post, type Answer } from './http.js';

export interface WebhookUrlConfig {
  readonly webhook_url: string;
}

export interface WebhookUrlChannelOptions {
  /** The parts of the URL never shown in a delivery's detail (default: the path). */
  readonly secrets?: (url: URL) => string[];
  /** Reads an answer before the usual status rules do (undefined: use them). */
  readonly interpret?: (answer: Answer, secrets: readonly string[]) => DeliveryOutcome | undefined;
}

/** A channel that POSTs `payload(notification)` as JSON to the configured `webhook_url`. */
export function webhookUrlChannel(
  type: string,
  payload: (n: Notification) => unknown,
  options: WebhookUrlChannelOptions = {},
): Channel<WebhookUrlConfig> {
  return {
    type,
    parseConfig(config: unknown): WebhookUrlConfig {
      const c = configObject(config, ['webhook_url']);
      return { webhook_url: urlField(c, 'webhook_url', true) };
    },
    redact(config: WebhookUrlConfig): Record<string, unknown> {
      return { webhook_url: maskUrlPath(config.webhook_url) };
    },
    send(config: WebhookUrlConfig, n: Notification) {
      return guard(async () => {
        const url = new URL(config.webhook_url);
        const secrets = options.secrets?.(url) ?? [url.pathname];
        const answer = await post({ url: config.webhook_url, body: JSON.stringify(payload(n)), headers: { 'content-type': 'application/json' }, secrets });
        if (!isAnswer(answer)) return answer;
        return options.interpret?.(answer, secrets) ?? outcomeOf(answer, secrets);
      });
    },
  };
}
