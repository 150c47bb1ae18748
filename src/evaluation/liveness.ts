import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';

/** How often a running Vigil records that it is alive. */
export const LIVENESS_INTERVAL_MS = 5_000;

/**
 * Vigil's own uptime. Each process records that it is alive; when a process starts and
 * no other is, the time since the last sign of life becomes a blackout: windows that
 * ended in it are `unknown`, never `missed`, because check-ins sent then were lost.
 */
export class Liveness {
  readonly instanceId = randomUUID();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Records the blackout since the last sign of life (if any) and starts the heartbeat. */
  async start(): Promise<void> {
    const now = this.clock.now();
    const last = await this.store.db.selectFrom('instances').select((eb) => eb.fn.max('last_seen').as('last')).executeTakeFirst();
    const lastSeen = last?.last === null || last?.last === undefined ? null : Number(last.last);
    // With SQLite there is one process: any gap since its last sign of life was downtime.
    // Instances sharing a database cover for each other: only a gap with none alive counts.
    const othersAlive = this.store.capabilities.sharedByInstances && lastSeen !== null && lastSeen >= now - 2 * LIVENESS_INTERVAL_MS;
    if (lastSeen !== null && lastSeen < now && !othersAlive) {
      await this.store.db.insertInto('blackouts').values({ from_at: lastSeen, to_at: now }).execute();
      this.logger.info({ from: new Date(lastSeen).toISOString(), to: new Date(now).toISOString() }, 'vigil was down: windows in this gap become unknown');
    }
    await this.store.db.deleteFrom('instances').where('last_seen', '<', now - 86_400_000).execute();
    await this.store.db.insertInto('instances').values({ id: this.instanceId, started_at: now, last_seen: now }).execute();
    this.timer = setInterval(() => {
      this.beat().catch((error: unknown) => this.logger.warn({ err: error }, 'could not record liveness'));
    }, LIVENESS_INTERVAL_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    await this.store.db.updateTable('instances').set({ last_seen: this.clock.now() }).where('id', '=', this.instanceId).execute();
  }

  /** Records the last sign of life at a graceful stop, so the gap until the next start is exact. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beat();
  }
}
