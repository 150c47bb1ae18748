/**
 * Email over SMTP with nodemailer. The server and sender are Vigil settings (VIGIL_SMTP_URL,
 * VIGIL_MAIL_FROM), not per-channel config, so the channel is built by a factory.
 */
import { createTransport, type SendMailOptions, type Transporter } from 'nodemailer';
import type { Channel, DeliveryOutcome, Notification } from '../types.js';
import { VigilError } from '../../errors.js';
import { configObject, fieldError } from './fields.js';
import { TIMEOUT_MS, scrub } from './http.js';
import { buildMessage, escapeHtml, oneLine, renderText, truncate, type Message } from './message.js';

export interface EmailSettings {
  readonly smtpUrl: string | undefined;
  readonly from: string | undefined;
}

export interface EmailConfig {
  /** 1-20 recipient addresses. */
  readonly to: readonly string[];
}

const MAX_RECIPIENTS = 20;
// Deliberately loose: the SMTP server is the authority; this only catches obvious typos.
const ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+$/;
const COLORS: Readonly<Record<Message['kind'], string>> = { opened: '#c62828', resolved: '#2e7d32', test: '#1565c0' };

/** One transport per SMTP URL: nodemailer parses the URL and TLS options once. */
const transports = new Map<string, Transporter>();

function transportFor(smtpUrl: string): Transporter {
  let transport = transports.get(smtpUrl);
  if (!transport) {
    // nodemailer's defaults wait minutes on a dead server; keep to the same 10 s as HTTP channels.
    transport = createTransport({ url: smtpUrl, connectionTimeout: TIMEOUT_MS, greetingTimeout: TIMEOUT_MS, socketTimeout: TIMEOUT_MS });
    transports.set(smtpUrl, transport);
  }
  return transport;
}

/** Closes every cached SMTP transport (shutdown, tests). */
export function closeEmailTransports(): void {
  for (const transport of transports.values()) transport.close();
  transports.clear();
}

/** The SMTP URL with its password masked, for logs and the settings page. */
export function redactSmtpUrl(smtpUrl: string): string {
  try {
    const url = new URL(smtpUrl);
    if (url.password) url.password = '****';
    return url.toString();
  } catch {
    return '****';
  }
}

/** VIGIL_MAIL_FROM, else the SMTP login when it is an address, else `vigil@<smtp host>`. */
export function senderAddress(settings: EmailSettings & { smtpUrl: string }): string {
  if (settings.from) return settings.from;
  try {
    const url = new URL(settings.smtpUrl);
    const user = decodeURIComponent(url.username);
    return user.includes('@') ? `Vigil <${user}>` : `Vigil <vigil@${url.hostname || 'localhost'}>`;
  } catch {
    return 'Vigil <vigil@localhost>';
  }
}

/** The HTML part: the same content as the text part, in a small table. */
export function emailHtml(m: Message): string {
  const rows = m.facts
    .map((f) => `<tr><th align="left" style="padding:4px 12px 4px 0;vertical-align:top">${escapeHtml(f.label)}</th><td style="padding:4px 0">${escapeHtml(f.value)}</td></tr>`)
    .join('\n');
  return [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif;font-size:14px;color:#222">',
    `<h2 style="color:${COLORS[m.kind]};margin:0 0 12px">${escapeHtml(m.title)}</h2>`,
    `<p>${escapeHtml(m.summary)}</p>`,
    `<table cellspacing="0" cellpadding="0">\n${rows}\n</table>`,
    `<p><a href="${escapeHtml(m.link)}">Open monitor</a></p>`,
    '</body></html>',
  ].join('\n');
}

/** The nodemailer message for `n` (without transport concerns). */
export function emailMessage(from: string, config: EmailConfig, n: Notification, now?: number): SendMailOptions {
  const m = buildMessage(n, now);
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'vigil.invalid';
  const id = (value: string): string => value.replace(/[^A-Za-z0-9._-]/g, '');
  return {
    from,
    to: [...config.to],
    subject: truncate(oneLine(m.subject), 250),
    text: renderText(m),
    html: emailHtml(m),
    // A retry reuses the delivery id, so a receiving server can drop the duplicate.
    messageId: `<vigil-${id(n.deliveryId)}@${domain}>`,
    // Opened and resolved mails of one incident thread together in clients that honour References.
    references: n.event === 'test' ? [] : [`<vigil-incident-${id(n.incident.id)}@${domain}>`],
    headers: { 'X-Vigil-Event': n.event, 'X-Vigil-Delivery': oneLine(n.deliveryId) },
  };
}

/** Maps a nodemailer error: 5xx replies and auth/envelope errors are permanent, the rest retryable. */
export function smtpFailure(error: unknown, secrets: readonly string[]): DeliveryOutcome {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  const status = typeof e.responseCode === 'number' ? e.responseCode : null;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const detail = scrub(truncate(oneLine(code ? `${code}: ${message}` : message), 300), secrets);
  const permanent = status !== null ? status >= 500 : code === 'EAUTH' || code === 'EENVELOPE';
  return permanent ? { ok: false, status, detail, permanent: true } : { ok: false, status, detail };
}

/** Builds the email channel for the given SMTP settings. */
export function createEmailChannel(settings: EmailSettings): Channel<EmailConfig> {
  return {
    type: 'email',

    parseConfig(config: unknown): EmailConfig {
      const c = configObject(config, ['to']);
      const raw = c.to;
      if (raw === undefined || raw === null) throw new VigilError('missing_field', 'config.to: required', 'config.to');
      if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_RECIPIENTS) {
        throw fieldError('to', `must be a list of 1-${MAX_RECIPIENTS} email addresses`);
      }
      const seen = new Set<string>();
      const to: string[] = [];
      raw.forEach((value: unknown, i) => {
        const address = typeof value === 'string' ? value.trim() : '';
        if (address.length > 254 || !ADDRESS.test(address)) throw fieldError(`to.${i}`, 'must be an email address');
        if (!seen.has(address.toLowerCase())) to.push(address);
        seen.add(address.toLowerCase());
      });
      return { to };
    },

    redact(config: EmailConfig): Record<string, unknown> {
      return { to: [...config.to] };
    },

    async send(config: EmailConfig, n: Notification): Promise<DeliveryOutcome> {
      const smtpUrl = settings.smtpUrl;
      if (!smtpUrl) return { ok: false, status: null, detail: 'email is not configured: set VIGIL_SMTP_URL', permanent: true };
      let secrets: string[] = [];
      try {
        const url = new URL(smtpUrl);
        secrets = [url.password, decodeURIComponent(url.password)];
        const info = (await transportFor(smtpUrl).sendMail(emailMessage(senderAddress({ ...settings, smtpUrl }), config, n))) as {
          response?: unknown;
          rejected?: unknown;
        };
        const response = typeof info.response === 'string' ? info.response : '';
        const status = Number(/^\d{3}/.exec(response)?.[0] ?? 250);
        // nodemailer reports partly rejected recipient lists as a success; say who was left out.
        const refused = Array.isArray(info.rejected) ? info.rejected.map((r: unknown) => (typeof r === 'string' ? r : JSON.stringify(r))) : [];
        const rejected = refused.length > 0 ? `; rejected: ${refused.join(', ')}` : '';
        return { ok: true, status, detail: truncate(oneLine(`${response || 'sent'}${rejected}`), 300) };
      } catch (error) {
        return smtpFailure(error, secrets);
      }
    },
  };
}
