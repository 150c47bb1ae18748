/**
 * Telegram Bot API `sendMessage` with HTML formatting. Telegram answers `{"ok":true,…}`; an
 * `ok:false` answer is a failure even when the HTTP status looks fine.
 */
import type { Channel, DeliveryOutcome, Notification } from '../types.js';
import { configObject, fieldError, stringField, urlField } from './fields.js';
import { classifyStatus, describeAnswer, guard, isAnswer, outcomeOf, post } from './http.js';
import { buildMessage, escapeHtml, truncate, type Message } from './message.js';

export interface TelegramConfig {
  /** `123456789:AA…` from @BotFather; the part after `:` is the secret. */
  readonly bot_token: string;
  /** A numeric chat id (negative for groups) or `@channelusername`. */
  readonly chat_id: string;
  /** Default `https://api.telegram.org` (or a self-hosted Bot API server). */
  readonly api_url: string;
}

export const TELEGRAM_URL = 'https://api.telegram.org';
const ICONS: Readonly<Record<Message['kind'], string>> = { opened: '🚨', resolved: '✅', test: '🧪' };
/** Telegram's limit for one message, counted after entity parsing; staying well below is simpler. */
const MAX_TEXT = 3800;

/** The message as Telegram HTML: bold title, summary, facts, link — every user value escaped. */
export function telegramText(n: Notification, now?: number): string {
  const m = buildMessage(n, now);
  const facts = m.facts.map((f) => `<b>${escapeHtml(f.label)}:</b> ${escapeHtml(truncate(f.value, 300))}`).join('\n');
  const link = /^https?:\/\//i.test(m.link) ? `<a href="${escapeHtml(m.link)}">Open monitor</a>` : escapeHtml(m.link);
  const head = `${ICONS[m.kind]} <b>${escapeHtml(m.title)}</b>\n\n`;
  const tail = `\n\n${facts}\n\n${link}`;
  // Only the summary is cut, so no HTML tag is ever split.
  return `${head}${escapeHtml(truncate(m.summary, Math.max(200, MAX_TEXT - head.length - tail.length)))}${tail}`;
}

function telegramOutcome(status: number, text: string, secrets: readonly string[]): DeliveryOutcome | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('ok' in parsed)) return undefined;
  const answer = parsed as { ok: unknown; error_code?: unknown; description?: unknown };
  if (answer.ok === true && status >= 200 && status < 300) return { ok: true, status, detail: `HTTP ${status}: ok` };
  const code = typeof answer.error_code === 'number' ? answer.error_code : status >= 200 && status < 300 ? 500 : status;
  const why = typeof answer.description === 'string' ? answer.description : text;
  return { ...classifyStatus(code, describeAnswer({ status, text: why, location: null }, secrets)), ok: false, status };
}

/** Telegram bot channel. */
export const telegramChannel: Channel<TelegramConfig> = {
  type: 'telegram',
  parseConfig(config: unknown): TelegramConfig {
    const c = configObject(config, ['bot_token', 'chat_id', 'api_url']);
    const bot_token = stringField(c, 'bot_token', true, {
      max: 200,
      pattern: /^\d+:[A-Za-z0-9_-]+$/,
      hint: 'must look like 123456789:AA… (the token from @BotFather)',
    });
    const raw = c.chat_id;
    const chat_id = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : stringField(c, 'chat_id', true, { max: 64 });
    if (!/^-?\d+$/.test(chat_id) && !/^@[A-Za-z][A-Za-z0-9_]{3,}$/.test(chat_id)) {
      throw fieldError('chat_id', 'must be a numeric chat id or @channelusername');
    }
    return { bot_token, chat_id, api_url: urlField(c, 'api_url', false, false) ?? TELEGRAM_URL };
  },
  redact(config: TelegramConfig): Record<string, unknown> {
    // The bot id before `:` is public (it is in every message the bot sends); the rest is the secret.
    return { bot_token: `${config.bot_token.split(':')[0] ?? ''}:****`, chat_id: config.chat_id, api_url: config.api_url };
  },
  send(config: TelegramConfig, n: Notification) {
    return guard(async () => {
      const secrets = [config.bot_token];
      const answer = await post({
        url: `${config.api_url}/bot${config.bot_token}/sendMessage`,
        body: JSON.stringify({ chat_id: config.chat_id, text: telegramText(n), parse_mode: 'HTML', disable_web_page_preview: true }),
        headers: { 'content-type': 'application/json' },
        secrets,
      });
      if (!isAnswer(answer)) return answer;
      const outcome = telegramOutcome(answer.status, answer.text, secrets);
      if (outcome) return outcome;
      // A 2xx that is not Telegram's JSON (a captive portal, a wrong api_url) did not deliver anything.
      if (answer.status >= 200 && answer.status < 300) {
        return { ok: false, status: answer.status, detail: `unexpected answer: ${describeAnswer(answer, secrets)}` };
      }
      return outcomeOf(answer, secrets);
    });
  },
};
