import { AccountsService } from '../accounts/service.js';
import { systemClock } from '../clock.js';
import { loadConfig, type Config } from '../config.js';
import { AppsService } from '../monitors/apps.js';
import { Catalog } from '../monitors/catalog.js';
import { MonitorsService } from '../monitors/service.js';
import { openDatabase, type Store } from '../store/index.js';

export interface CliContext {
  readonly config: Config;
  readonly store: Store;
  readonly accounts: AccountsService;
  readonly apps: AppsService;
  readonly monitors: MonitorsService;
}

/** Opens the configured database (migrated) for one CLI command, then closes it. */
export async function withContext<T>(run: (context: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openDatabase(config.databaseUrl);
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
