import { ConfigError, redactCredentials } from '../config.js';
import { reason } from '../errors.js';
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

/**
 * Opens the configured database and checks that it answers. A path that cannot be created,
 * a file that is not SQLite or a server that cannot be reached is a bad `VIGIL_DATABASE_URL`.
 */
export async function openDatabase(url: string): Promise<Store> {
  const fail = (error: unknown) => new ConfigError('VIGIL_DATABASE_URL', `cannot open ${redactCredentials(url)}: ${reason(error)}`);
  let store: Store;
  try {
    store = openStore(url);
  } catch (error) {
    throw fail(error);
  }
  try {
    await store.ping();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw fail(error);
  }
  return store;
}
