/**
 * The only module that reads `process.env`. Everything is validated once and handed
 * out frozen; a bad value stops start-up with a message naming the variable.
 */
import { isIP } from 'node:net';
import { isEmail, isPasswordLength, PASSWORD_LENGTH } from './accounts/rules.js';

export const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LogLevels)[number];

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly baseUrl: string;
  /** Seconds Vigil waits after a deadline for in-flight (batched) events. */
  readonly ingestTolerance: number;
  /** Seconds a client timestamp may be off the receive time before it is replaced by it. */
  readonly maxClockSkew: number;
  /** Largest accepted ingest request body, in bytes. */
  readonly ingestBodyLimit: number;
  readonly adminEmail: string | undefined;
  readonly adminPassword: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string | undefined;
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Hides the user name and password of a URL (database, SMTP), for messages. */
export function redactCredentials(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/i, '$1***@');
}

function databaseUrl(raw: string): string {
  if (raw === 'sqlite::memory:' || /^sqlite:.+/.test(raw)) return raw;
  if (/^postgres(ql)?:\/\/.+/.test(raw)) {
    // The PostgreSQL store parses it with `new URL`: refuse here what would throw there.
    if (!URL.canParse(raw)) {
      throw new ConfigError(
        'VIGIL_DATABASE_URL',
        `not a valid URL: "${redactCredentials(raw)}" (percent-encode special characters in the user name and password)`,
      );
    }
    return raw;
  }
  throw new ConfigError('VIGIL_DATABASE_URL', `expected sqlite:PATH, sqlite::memory: or postgres://…, got "${redactCredentials(raw)}"`);
}

const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** An IP address or a host name; an all-numeric name is an IPv4 address and must be a valid one. */
function host(raw: string): string {
  if (isIP(raw) !== 0) return raw;
  if (!/^[\d.]+$/.test(raw) && HOST_NAME.test(raw)) return raw;
  throw new ConfigError('VIGIL_HOST', `expected an IP address (127.0.0.1, 0.0.0.0, ::) or a host name, got "${raw}"`);
}

// The account rules, checked here so a bad value stops start-up before the database is
// touched, naming the variable.
function adminEmail(raw: string | undefined): string | undefined {
  if (raw !== undefined && !isEmail(raw)) throw new ConfigError('VIGIL_ADMIN_EMAIL', `"${raw}" is not an email address`);
  return raw;
}

function adminPassword(raw: string | undefined): string | undefined {
  if (raw !== undefined && !isPasswordLength(raw)) {
    throw new ConfigError('VIGIL_ADMIN_PASSWORD', `must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters, got ${raw.length}`);
  }
  return raw;
}

function url(name: string, raw: string | undefined, protocols: readonly string[]): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a valid URL: "${redactCredentials(raw)}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got "${redactCredentials(raw)}"`);
  }
  return raw;
}

/** Reads and validates the configuration; throws `ConfigError` naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const listenHost = host(text(env, 'VIGIL_HOST') ?? '127.0.0.1');
  const port = integer(env, 'VIGIL_PORT', 8080, 0, 65535);
  const logLevel = text(env, 'VIGIL_LOG_LEVEL') ?? 'info';
  if (!(LogLevels as readonly string[]).includes(logLevel)) {
    throw new ConfigError('VIGIL_LOG_LEVEL', `expected one of ${LogLevels.join(', ')}, got "${logLevel}"`);
  }
  const baseUrl = url('VIGIL_BASE_URL', text(env, 'VIGIL_BASE_URL'), ['http:', 'https:']);
  const urlHost = listenHost.includes(':') ? `[${listenHost}]` : listenHost;
  return Object.freeze({
    host: listenHost,
    port,
    databaseUrl: databaseUrl(text(env, 'VIGIL_DATABASE_URL') ?? 'sqlite:./data/vigil.db'),
    baseUrl: (baseUrl ?? `http://${urlHost}:${port}`).replace(/\/+$/, ''),
    ingestTolerance: integer(env, 'VIGIL_INGEST_TOLERANCE', 15, 0, 3600),
    maxClockSkew: integer(env, 'VIGIL_MAX_CLOCK_SKEW', 300, 1, 86_400),
    ingestBodyLimit: integer(env, 'VIGIL_INGEST_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    adminEmail: adminEmail(text(env, 'VIGIL_ADMIN_EMAIL')),
    adminPassword: adminPassword(text(env, 'VIGIL_ADMIN_PASSWORD')),
    smtpUrl: url('VIGIL_SMTP_URL', text(env, 'VIGIL_SMTP_URL'), ['smtp:', 'smtps:']),
    mailFrom: text(env, 'VIGIL_MAIL_FROM'),
    logLevel: logLevel as LogLevel,
  });
}

/** Settings of the job wrappers (`vigil exec`, `vigil heartbeat`), which talk to a server. */
export interface ClientConfig {
  readonly url: string;
  readonly pushApiKey: string | undefined;
  /** For `vigil user create` without `--password`. */
  readonly password: string | undefined;
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  return Object.freeze({
    url: (url('VIGIL_URL', text(env, 'VIGIL_URL'), ['http:', 'https:']) ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    pushApiKey: text(env, 'VIGIL_PUSH_API_KEY'),
    password: env.VIGIL_PASSWORD,
  });
}
