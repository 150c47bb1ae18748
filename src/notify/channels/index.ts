/**
 * The channel registry. Email needs Vigil's SMTP settings, so the complete registry comes from
 * `createChannels(settings)`; `channels` holds the HTTP channels, which need nothing.
 */
import type { Channel } from '../types.js';
import { discordChannel, type DiscordConfig } from './discord.js';
import { createEmailChannel, type EmailConfig, type EmailSettings } from './email.js';
import { ntfyChannel, type NtfyConfig } from './ntfy.js';
import { pagerDutyChannel, type PagerDutyConfig } from './pagerduty.js';
import { slackChannel, type SlackConfig } from './slack.js';
import { teamsChannel, type TeamsConfig } from './teams.js';
import { telegramChannel, type TelegramConfig } from './telegram.js';
import { webhookChannel, type WebhookConfig } from './webhook.js';

export const ChannelTypes = ['webhook', 'email', 'slack', 'discord', 'teams', 'pagerduty', 'ntfy', 'telegram'] as const;
export type ChannelType = (typeof ChannelTypes)[number];

/** Each channel type's parsed config. */
export interface ChannelConfigs {
  webhook: WebhookConfig;
  email: EmailConfig;
  slack: SlackConfig;
  discord: DiscordConfig;
  teams: TeamsConfig;
  pagerduty: PagerDutyConfig;
  ntfy: NtfyConfig;
  telegram: TelegramConfig;
}

export type ChannelRegistry = { readonly [K in ChannelType]: Channel<ChannelConfigs[K]> };

/** The channels that need no Vigil settings (all but email). */
export const channels: Omit<ChannelRegistry, 'email'> = Object.freeze({
  webhook: webhookChannel,
  slack: slackChannel,
  discord: discordChannel,
  teams: teamsChannel,
  pagerduty: pagerDutyChannel,
  ntfy: ntfyChannel,
  telegram: telegramChannel,
});

/** Every channel, email bound to the given SMTP settings (`{ smtpUrl: config.smtpUrl, from: config.mailFrom }`). */
export function createChannels(settings: EmailSettings): ChannelRegistry {
  return Object.freeze({ ...channels, email: createEmailChannel(settings) });
}

/** Narrows an API string to a known channel type. */
export function isChannelType(value: unknown): value is ChannelType {
  return typeof value === 'string' && (ChannelTypes as readonly string[]).includes(value);
}

export { createEmailChannel, closeEmailTransports, redactSmtpUrl, type EmailConfig, type EmailSettings } from './email.js';
export type { DiscordConfig, NtfyConfig, PagerDutyConfig, SlackConfig, TeamsConfig, TelegramConfig, WebhookConfig };
export { webhookChannel, slackChannel, discordChannel, teamsChannel, pagerDutyChannel, ntfyChannel, telegramChannel };
export { buildMessage, renderText, type Message } from './message.js';
