/**
 * One line saying why an operation failed, for CLI messages. A failed `fetch` says only
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
