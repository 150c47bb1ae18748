import { VigilError } from '../errors.js';

export interface Page {
  readonly limit: number;
  /** Exclusive upper bound on id (lists are newest first). */
  readonly before: number | undefined;
}

export interface PageOf<T> {
  readonly data: T[];
  readonly next_cursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** Reads `limit` and `cursor` query values; cursors are opaque strings to clients. */
export function parsePage(limit: number | undefined, cursor: string | undefined): Page {
  const size = limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(size) || size < 1 || size > MAX_LIMIT) {
    throw new VigilError('invalid_field', `limit: must be a whole number from 1 to ${MAX_LIMIT}`, 'limit');
  }
  if (cursor === undefined || cursor === '') return { limit: size, before: undefined };
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^id:\d{1,15}$/.test(decoded)) throw new VigilError('invalid_cursor', 'cursor: not a cursor this API returned', 'cursor');
  return { limit: size, before: Number(decoded.slice(3)) };
}

/** Builds a page from `limit + 1` rows fetched newest first. */
export function pageOf<R extends { id: number }, T>(rows: R[], page: Page, map: (row: R) => T): PageOf<T> {
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  const last = kept[kept.length - 1];
  return {
    data: kept.map(map),
    next_cursor: more && last ? Buffer.from(`id:${last.id}`).toString('base64url') : null,
  };
}

/** Epoch milliseconds as an ISO-8601 UTC string (null stays null). */
export const iso = (epochMs: number | null | undefined): string | null =>
  epochMs === null || epochMs === undefined ? null : new Date(epochMs).toISOString();
