import type { Logger } from 'pino';

export interface BackgroundOptions {
  /** Never sleep longer than this, so a lost wake-up costs at most this much. */
  readonly maxSleepMs: number;
  readonly logger: Logger;
  /** For the log line when a run fails. */
  readonly name: string;
}

/**
 * A background worker's loop: `runPass` does one pass and says whether more is due at
 * once; `nextDueIn` says how long to sleep afterwards. One pass at a time; a wake-up during
 * a pass makes another pass follow it, spaced like any woken run. The evaluator and the
 * delivery worker extend it.
 */
export abstract class BackgroundLoop {
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (epoch ms). */
  private timerAt = Infinity;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private lastRunAt = 0;

  constructor(private readonly loopOptions: BackgroundOptions) {}

  /** One pass; true when more is due right away. */
  protected abstract runPass(): Promise<boolean>;
  /** Milliseconds until the next pass is due, or null for nothing known. */
  protected abstract nextDueIn(): Promise<number | null>;
  /** How long after the last pass began a woken pass may run (coalescing bursts of wake-ups). */
  protected wokenSpacingMs(): number {
    return 0;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops waking up and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    await this.running;
  }

  /** Something changed: run soon. Cheap enough to call for every check-in. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const now = Date.now();
    const delay = Math.max(0, this.lastRunAt + this.wokenSpacingMs() - now);
    // A timer that fires sooner already covers this wake-up.
    if (this.timer !== undefined && this.timerAt <= now + delay) return;
    this.arm(delay);
  }

  /** Runs passes until nothing is due; resolves when done. */
  runOnce(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
      // Woken while running: the next woken pass, unless something is due before.
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
    return this.running;
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, ms), this.loopOptions.maxSleepMs);
    this.timerAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.runOnce();
    }, delay);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    try {
      let more = true;
      while (more && !this.stopped) {
        this.again = false;
        this.lastRunAt = Date.now();
        more = await this.runPass();
        // Synchronous drivers resolve at once: give requests a turn between passes.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.stopped) return;
      const due = (await this.nextDueIn()) ?? this.loopOptions.maxSleepMs;
      // A wake-up during the pass is served when the loop ends (runOnce).
      if (!this.stopped) this.arm(due);
    } catch (error) {
      this.loopOptions.logger.error({ err: error }, `${this.loopOptions.name} pass failed; retrying in 1 s`);
      if (!this.stopped) this.arm(1000);
    }
  }
}

/** Milliseconds from `now` until `at` (a `min(...)` column read back), or null when there is none. */
export function msUntil(at: number | string | null | undefined, now: number): number | null {
  return at === null || at === undefined ? null : Number(at) - now;
}
