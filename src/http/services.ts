import type { Registry } from 'prom-client';
import type { AccountsService } from '../accounts/service.js';
import type { Clock } from '../clock.js';
import type { CheckInHistory } from '../ingest/history.js';
import type { AppsService } from '../monitors/apps.js';
import type { MonitorsService } from '../monitors/service.js';
import type { EvaluationHistory } from '../evaluation/history.js';
import type { NotifiersService } from '../notify/service.js';
import type { Store } from '../store/index.js';

/** What the REST application is built from; tests build it with their own. */
export interface Services {
  readonly store: Store;
  readonly clock: Clock;
  readonly accounts: AccountsService;
  readonly apps: AppsService;
  readonly monitors: MonitorsService;
  readonly history: CheckInHistory;
  readonly evaluation: EvaluationHistory;
  readonly notifiers: NotifiersService;
  readonly metrics: Registry;
  readonly isStopping: () => boolean;
}
