import { AccountsService } from '../accounts/service.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig, redactCredentials, type Config } from '../config.js';
import { AppsService } from '../monitors/apps.js';
import { Catalog } from '../monitors/catalog.js';
import { MonitorsService } from '../monitors/service.js';
import { openStore, type Store } from '../store/index.js';
import { reason } from './reason.js';

export interface CliContext {
  readonly config: Config;
  readonly store: Store;
  readonly accounts: AccountsService;
  readonly apps: AppsService;
  readonly monitors: MonitorsService;
}

/**
 * Opens the configured database and checks that it answers. A path that cannot be created,
 * a file that is not SQLite or a server that cannot be reached is a bad `VIGIL_DATABASE_URL`.
 */
export async function openDatabase(config: Config): Promise<Store> {
  const fail = (error: unknown) => new ConfigError('VIGIL_DATABASE_URL', `cannot open ${redactCredentials(config.databaseUrl)}: ${reason(error)}`);
  let store: Store;
  try {
    store = openStore(config.databaseUrl);
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

/** Opens the configured database (migrated) for one CLI command, then closes it. */
export async function withContext<T>(run: (context: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openDatabase(config);
  try {
    await store.migrate();
    // The CLI writes straight to the database; a running server picks changes up on restart.
    const catalog = new Catalog();
    const context: CliContext = {
      config,
      store,
      accounts: new AccountsService(store, systemClock),
      apps: new AppsService(store, catalog, systemClock),
      monitors: new MonitorsService(store, catalog, systemClock),
    };
    return await run(context);
  } finally {
    await store.close();
  }
}
