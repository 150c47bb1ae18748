import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { BackgroundLoop, msUntil } from '../background.js';
import type { Clock } from '../clock.js';
import type { Database, Store } from '../store/index.js';
import type { ChannelRegistry } from './channels/index.js';
import { channelFor } from './service.js';
import type { DeliveryOutcome, Notification } from './types.js';

export interface DeliveryOptions {
  /** First retry delay; doubles each attempt (10 s, 20 s, 40 s … capped at `maxBackoffMs`). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Give up this long after the notification was enqueued (SPEC: 24 h). */
  readonly giveUpAfterMs?: number;
}

// Longer than a channel's 10 s timeout; a claim left by a crashed process expires after it.
const CLAIM_MS = 15_000;
// Sent concurrently; each channel call has its own 10 s timeout.
const BATCH = 64;
const MAX_SLEEP_MS = 30_000;

/**
 * Delivers the outbox. A row is claimed with a conditional write (so two processes never
 * send the same row at once), sent, and marked delivered only after the channel accepted
 * it: a crash in between means a retry with the same delivery id, never a lost message.
 */
export class DeliveryWorker extends BackgroundLoop {
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly giveUpAfterMs: number;
  readonly stats = { attempts: 0, delivered: 0, failed: 0 };

  constructor(
    private readonly store: Store,
    private readonly registry: ChannelRegistry,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: DeliveryOptions = {},
  ) {
    super({ maxSleepMs: MAX_SLEEP_MS, logger, name: 'delivery' });
    this.backoffMs = options.backoffMs ?? 10_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 3_600_000;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 86_400_000;
  }

  protected async runPass(): Promise<boolean> {
    return (await this.pass()) === BATCH;
  }

  protected async nextDueIn(): Promise<number | null> {
    const next = await this.store.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('next'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return msUntil(next?.next, this.clock.now());
  }

  private async pass(): Promise<number> {
    const now = this.clock.now();
    const due = this.store.db
      .selectFrom('deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(BATCH);
    const claimed = await this.store.db
      .updateTable('deliveries')
      .set({ claimed_until: now + CLAIM_MS })
      .where('id', 'in', due)
      .where('status', '=', 'pending')
      // Checked again on the row itself, so two instances racing for it cannot both win.
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
      .returningAll()
      .execute();
    if (claimed.length === 0) return 0;
    const notifiers = await this.store.db
      .selectFrom('notifiers')
      .select(['id', 'type', 'config'])
      .where('id', 'in', [...new Set(claimed.map((d) => d.notifier_id))])
      .execute();
    const byId = new Map(notifiers.map((n) => [n.id, n]));
    const results = await Promise.all(
      claimed.map(async (delivery) => {
        const notifier = byId.get(delivery.notifier_id);
        const started = Date.now();
        let outcome: DeliveryOutcome;
        if (!notifier) outcome = { ok: false, status: null, detail: 'notifier deleted', permanent: true };
        else {
          try {
            outcome = await channelFor(this.registry, notifier.type).send(JSON.parse(notifier.config), JSON.parse(delivery.payload) as Notification);
          } catch (error) {
            outcome = { ok: false, status: null, detail: error instanceof Error ? error.message : String(error) };
          }
        }
        return { delivery, outcome, durationMs: Date.now() - started };
      }),
    );
    // One transaction (one fsync) records the whole batch.
    await this.store.db.transaction().execute(async (trx) => {
      for (const r of results) await this.record(trx, r.delivery, r.outcome, r.durationMs);
    });
    return claimed.length;
  }

  private async record(
    trx: Kysely<Database>,
    delivery: { id: number; attempts: number; created_at: number; uid: string; event: string },
    outcome: DeliveryOutcome,
    durationMs: number,
  ): Promise<void> {
    const now = this.clock.now();
    const attempts = Number(delivery.attempts) + 1;
    const retryAt = now + Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempts - 1));
    const givingUp = !outcome.ok && (outcome.permanent === true || retryAt > Number(delivery.created_at) + this.giveUpAfterMs);
    const status = outcome.ok ? 'delivered' : givingUp ? 'failed' : 'pending';
    await trx
      .insertInto('delivery_attempts')
      .values({ delivery_id: delivery.id, attempted_at: now, ok: outcome.ok ? 1 : 0, status_code: outcome.status, detail: outcome.detail.slice(0, 2000), duration_ms: durationMs })
      .execute();
    await trx
      .updateTable('deliveries')
      .set({
        attempts,
        status,
        claimed_until: null,
        next_attempt_at: status === 'pending' ? retryAt : now,
        delivered_at: outcome.ok ? now : null,
        last_error: outcome.ok ? null : outcome.detail.slice(0, 2000),
      })
      .where('id', '=', delivery.id)
      .execute();
    this.stats.attempts += 1;
    if (status === 'delivered') this.stats.delivered += 1;
    if (status === 'failed') this.stats.failed += 1;
    const log = { delivery: delivery.uid, event: delivery.event, attempt: attempts, status: outcome.status, detail: outcome.detail };
    if (outcome.ok) this.logger.info(log, 'notification delivered');
    else this.logger.warn({ ...log, giving_up: givingUp }, 'notification not delivered');
  }
}
