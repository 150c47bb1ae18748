import { Type } from '@sinclair/typebox';
import { VigilError } from '../errors.js';
import { parsePage, type Page } from '../store/pagination.js';

/** The largest id of the tables named in paths (apps, monitors, incidents, notifiers: PostgreSQL serial). */
const MAX_PATH_ID = 2 ** 31 - 1;

/** A numeric id from the path; anything else is a 404, like an id that does not exist. */
export function idParam(value: string, what: string): number {
  const id = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(id <= MAX_PATH_ID)) throw new VigilError('not_found', `${what} ${value} not found`);
  return id;
}

export const PageQuery = {
  limit: Type.Optional(Type.String({ pattern: '^\\d{1,4}$', description: 'page size, 1–500 (default 50)' })),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: 'next_cursor of the previous page' })),
};

export function pageFrom(query: { limit?: string | undefined; cursor?: string | undefined }): Page {
  return parsePage(query.limit === undefined ? undefined : Number(query.limit), query.cursor);
}
