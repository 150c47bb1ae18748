import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export type { IngestBatch, Store, StoreCapabilities } from './store.js';
export type * from './schema.js';

/** Opens the store named by a `VIGIL_DATABASE_URL` value (`sqlite:PATH`, `sqlite::memory:`, `postgres://…`). */
export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) return new SqliteStore(url.slice('sqlite:'.length));
  return new PostgresStore(url);
}
