/**
 * Every error that reaches a user carries a stable `code`. HTTP status codes are
 * attached here so routes never pick them; `http/errors.ts` turns these into responses.
 */
export const ErrorCodes = {
  bad_request: 400,
  invalid_json: 400,
  invalid_field: 400,
  missing_field: 400,
  empty_body: 400,
  invalid_schedule: 400,
  invalid_timezone: 400,
  invalid_cursor: 400,
  unauthorized: 401,
  missing_api_key: 401,
  invalid_api_key: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  body_too_large: 413,
  unsupported: 415,
  internal_error: 500,
  not_ready: 503,
  store_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error whose `code` and message are safe to show to the caller. */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'VigilError';
    this.code = code;
    this.status = ErrorCodes[code];
    this.field = field;
  }
}

export const notFound = (what: string): VigilError => new VigilError('not_found', `${what} not found`);

export const invalidField = (field: string, message: string): VigilError =>
  new VigilError('invalid_field', `${field}: ${message}`, field);

/**
 * One line saying why an operation failed, for messages. A failed `fetch` says only
 * "fetch failed" (the reason is its `cause`); a connection refused on every address of a
 * name is an AggregateError with no message of its own.
 */
export function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let own = error.message;
  if (!own && error instanceof AggregateError) own = error.errors.map(reason).join('; ');
  if (!own) own = typeof (error as { code?: unknown }).code === 'string' ? String((error as { code?: unknown }).code) : error.name;
  return error.cause === undefined ? own : `${own}: ${reason(error.cause)}`;
}
