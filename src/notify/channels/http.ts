/**
 * One POST to a service and the classification of its answer. Shared by every HTTP channel
 * so they agree on timeouts, redirects and which failures are worth a retry.
 */
import type { DeliveryOutcome } from '../types.js';
import { oneLine, truncate } from './message.js';

export const TIMEOUT_MS = 10_000;
const USER_AGENT = 'Vigil';
/** Bytes of an answer kept for the outcome detail; the rest is discarded unread. */
const MAX_ANSWER_BYTES = 16 * 1024;

export interface PostRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Strings to blank out of any detail (e.g. a token that is part of the URL). */
  readonly secrets?: readonly string[];
}

/** An answer as read: status and (at most 16 KiB of) body text. */
export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly location: string | null;
}

/** 2xx ok; 408, 429 and 5xx worth a retry; any other status is permanent. */
export function classifyStatus(status: number, detail: string): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, status, detail };
  if (status === 408 || status === 429 || status >= 500) return { ok: false, status, detail };
  return { ok: false, status, detail, permanent: true };
}

/** Replaces each secret in `text` by `****`. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  // Very short "secrets" (a bare `/` path) would mangle every detail; real ones are long.
  return secrets.reduce((acc, s) => (s.length >= 8 ? acc.split(s).join('****') : acc), text);
}

/** `HTTP 400: invalid_payload` — the status plus a one-line, bounded excerpt of the answer. */
export function describeAnswer(answer: Answer, secrets?: readonly string[]): string {
  const excerpt = truncate(oneLine(answer.text), 300);
  return scrub(excerpt ? `HTTP ${answer.status}: ${excerpt}` : `HTTP ${answer.status}`, secrets);
}

/** A retryable outcome for a request that got no answer (refused, reset, DNS, timeout). */
export function networkFailure(error: unknown, secrets?: readonly string[]): DeliveryOutcome {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { ok: false, status: null, detail: `no answer within ${TIMEOUT_MS / 1000} seconds` };
  }
  let detail = error instanceof Error ? error.message : String(error);
  // undici reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND…) in `cause`.
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause === 'object') {
    const why = typeof cause.code === 'string' ? cause.code : typeof cause.message === 'string' ? cause.message : '';
    if (why) detail = `${detail}: ${why}`;
  }
  return { ok: false, status: null, detail: scrub(truncate(oneLine(detail), 300), secrets) };
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Releases the connection even when the answer is larger than we care to read.
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** POSTs and returns the answer, or a failed outcome when there was none. Never throws. */
export async function post(request: PostRequest): Promise<Answer | DeliveryOutcome> {
  // `set` (not an object spread) so a configured `User-Agent` replaces ours instead of being joined to it.
  const headers = new Headers({ 'user-agent': USER_AGENT });
  let response: Response;
  try {
    for (const [name, value] of Object.entries(request.headers)) headers.set(name, value);
    response = await fetch(request.url, {
      method: 'POST',
      headers,
      body: request.body,
      // A redirected POST may turn into a GET and hide a stale URL; report it instead.
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return networkFailure(error, request.secrets);
  }
  let text = '';
  try {
    text = await readCapped(response);
  } catch {
    // The status already tells what happened; a body cut short only loses detail.
  }
  return { status: response.status, text, location: response.headers.get('location') };
}

/** True when `post` produced an answer rather than a failure. */
export function isAnswer(value: Answer | DeliveryOutcome): value is Answer {
  return 'text' in value;
}

/** The standard outcome of an answer: redirects are permanent (fix the URL), the rest by status. */
export function outcomeOf(answer: Answer, secrets?: readonly string[]): DeliveryOutcome {
  if (answer.status >= 300 && answer.status < 400) {
    const to = answer.location ? ` to ${scrub(answer.location, secrets)}` : '';
    return { ok: false, status: answer.status, detail: `HTTP ${answer.status}: redirected${to}; configure the final URL`, permanent: true };
  }
  return classifyStatus(answer.status, describeAnswer(answer, secrets));
}

/** POST and classify by status alone: what most services need. */
export async function postAndClassify(request: PostRequest): Promise<DeliveryOutcome> {
  const answer = await post(request);
  return isAnswer(answer) ? outcomeOf(answer, request.secrets) : answer;
}

/** Wraps a channel's send so an unexpected exception becomes a (retryable) outcome, never a throw. */
export async function guard(send: () => Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
  try {
    return await send();
  } catch (error) {
    return { ok: false, status: null, detail: `internal error: ${error instanceof Error ? error.message : String(error)}` };
  }
}
