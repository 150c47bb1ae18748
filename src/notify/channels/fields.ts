/**
 * Config validation and redaction shared by the channels. Errors name the field as the API
 * shows it (`config.url`), so a user can find the bad setting without reading code.
 */
import { VigilError } from '../../errors.js';

/** A config object that passed the shape check; values are still unknown. */
export type RawConfig = Readonly<Record<string, unknown>>;

/** `VigilError('invalid_field', 'config.<key>: <message>', 'config.<key>')`. */
export function fieldError(key: string, message: string): VigilError {
  return new VigilError('invalid_field', `config.${key}: ${message}`, `config.${key}`);
}

/** Checks that `value` is a plain object holding only `allowed` keys (typos fail loudly). */
export function configObject(value: unknown, allowed: readonly string[]): RawConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VigilError('invalid_field', 'config: must be an object', 'config');
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw fieldError(key, `unknown setting (expected ${allowed.join(', ')})`);
  }
  return value as RawConfig;
}

interface StringRule {
  readonly max?: number;
  readonly min?: number;
  readonly pattern?: RegExp;
  /** Said when `pattern` does not match, e.g. "must be letters, digits, - or _". */
  readonly hint?: string;
  /** Keep surrounding whitespace (secrets are used byte for byte). */
  readonly untrimmed?: boolean;
}

/** A string field; undefined/null when absent and not required. */
export function stringField(c: RawConfig, key: string, required: true, rule?: StringRule): string;
export function stringField(c: RawConfig, key: string, required: false, rule?: StringRule): string | undefined;
export function stringField(c: RawConfig, key: string, required: boolean, rule: StringRule = {}): string | undefined {
  const value = c[key];
  if (value === undefined || value === null || value === '') {
    if (required) throw new VigilError('missing_field', `config.${key}: required`, `config.${key}`);
    return undefined;
  }
  if (typeof value !== 'string') throw fieldError(key, `must be a string, got ${typeof value}`);
  const text = rule.untrimmed ? value : value.trim();
  const min = rule.min ?? 1;
  const max = rule.max ?? 2000;
  if (text.length < min) throw fieldError(key, `must be at least ${min} characters`);
  if (text.length > max) throw fieldError(key, `must be at most ${max} characters`);
  if (rule.pattern && !rule.pattern.test(text)) throw fieldError(key, rule.hint ?? 'has an invalid format');
  return text;
}

/** An http(s) URL field, returned as given (trimmed); `trailingSlash: false` drops trailing `/`. */
export function urlField(c: RawConfig, key: string, required: true, trailingSlash?: boolean): string;
export function urlField(c: RawConfig, key: string, required: false, trailingSlash?: boolean): string | undefined;
export function urlField(c: RawConfig, key: string, required: boolean, trailingSlash = true): string | undefined {
  const text = required ? stringField(c, key, true) : stringField(c, key, false);
  if (text === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw fieldError(key, 'must be an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw fieldError(key, 'must be an http(s) URL');
  if (parsed.hash) throw fieldError(key, 'must not contain a #fragment');
  return trailingSlash ? text : text.replace(/\/+$/, '');
}

/** `****` plus the last 4 characters of long secrets (enough to tell two keys apart). */
export function maskSecret(secret: string): string {
  return secret.length >= 20 ? `****${secret.slice(-4)}` : '****';
}

/** Keeps scheme and host, masks path, query and credentials: the path of a webhook URL is its secret. */
export function maskUrlPath(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = parsed.pathname !== '/' || parsed.search !== '' || parsed.username !== '';
    return `${parsed.protocol}//${parsed.host}/${hidden ? '****' : ''}`;
  } catch {
    return '****';
  }
}
