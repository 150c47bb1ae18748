import type { Logger } from 'pino';

export interface BackgroundOptions {
  /** Never sleep longer than this, so a lost wake-up costs at most this much. */
  readonly maxSleepMs: number;
  /** Woken runs are spaced at least this far apart (coalescing bursts of wake-ups). */
  readonly minIntervalMs?: number;
  readonly logger: Logger;
  /** For the log line when a run fails. */
  readonly name: string;
}

/**
 * A background worker's loop: `run` does one pass and says whether more is due at once;
 * `nextDueIn` says how long to sleep afterwards. One pass at a time; a wake-up during a
 * pass makes another pass follow it. Used by the evaluator and the delivery worker.
 */
export class BackgroundLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private lastRunAt = 0;

  constructor(
    private readonly run: () => Promise<boolean>,
    private readonly nextDueIn: () => Promise<number | null>,
    private readonly options: BackgroundOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops waking up and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Something changed: run soon. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.arm(Math.max(0, this.lastRunAt + (this.options.minIntervalMs ?? 0) - Date.now()));
  }

  /** Runs passes until nothing is due; resolves when done. */
  runOnce(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runOnce(), Math.min(Math.max(0, ms), this.options.maxSleepMs));
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    try {
      let more = true;
      while ((more || this.again) && !this.stopped) {
        this.again = false;
        this.lastRunAt = Date.now();
        more = await this.run();
        // Synchronous drivers resolve at once: give requests a turn between passes.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.stopped) return;
      const due = await this.nextDueIn();
      this.arm(due ?? this.options.maxSleepMs);
    } catch (error) {
      this.options.logger.error({ err: error }, `${this.options.name} pass failed; retrying in 1 s`);
      if (!this.stopped) this.arm(1000);
    }
  }
}
