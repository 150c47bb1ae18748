/**
 * The only module that reads `process.env`. Everything is validated once and handed
 * out frozen; a bad value stops start-up with a message naming the variable.
 */
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

function databaseUrl(raw: string): string {
  if (raw === 'sqlite::memory:' || /^sqlite:.+/.test(raw) || /^postgres(ql)?:\/\/.+/.test(raw)) return raw;
  throw new ConfigError('VIGIL_DATABASE_URL', `expected sqlite:PATH, sqlite::memory: or postgres://…, got "${raw}"`);
}

function url(name: string, raw: string | undefined, protocols: readonly string[]): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got "${raw}"`);
  }
  return raw;
}

/** Reads and validates the configuration; throws `ConfigError` naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const host = text(env, 'VIGIL_HOST') ?? '127.0.0.1';
  const port = integer(env, 'VIGIL_PORT', 8080, 0, 65535);
  const logLevel = text(env, 'VIGIL_LOG_LEVEL') ?? 'info';
  if (!(LogLevels as readonly string[]).includes(logLevel)) {
    throw new ConfigError('VIGIL_LOG_LEVEL', `expected one of ${LogLevels.join(', ')}, got "${logLevel}"`);
  }
  const adminEmail = text(env, 'VIGIL_ADMIN_EMAIL');
  const adminPassword = text(env, 'VIGIL_ADMIN_PASSWORD');
  const baseUrl = url('VIGIL_BASE_URL', text(env, 'VIGIL_BASE_URL'), ['http:', 'https:']);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return Object.freeze({
    host,
    port,
    databaseUrl: databaseUrl(text(env, 'VIGIL_DATABASE_URL') ?? 'sqlite:./data/vigil.db'),
    baseUrl: (baseUrl ?? `http://${urlHost}:${port}`).replace(/\/+$/, ''),
    ingestTolerance: integer(env, 'VIGIL_INGEST_TOLERANCE', 15, 0, 3600),
    maxClockSkew: integer(env, 'VIGIL_MAX_CLOCK_SKEW', 300, 1, 86_400),
    ingestBodyLimit: integer(env, 'VIGIL_INGEST_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    adminEmail,
    adminPassword,
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
