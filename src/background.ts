import type { Logger } from 'pino';

export interface BackgroundOptions {
  /** Never sleep longer than this, so a lost wake-up costs at most this much. */
  readonly maxSleepMs: number;
  /** Woken runs are spaced at least this far apart (coalescing bursts of wake-ups). */
  readonly minIntervalMs?: number;
  /**
   * Woken runs also wait this many times as long as the last pass took (at most
   * `maxIntervalMs`), so a loop woken all the time keeps to a bounded share of the event
   * loop: 20 means about 5 %.
   */
  readonly spacingFactor?: number;
  readonly maxIntervalMs?: number;
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
  private lastPassMs = 0;
  /** Set by `runPass` to how long the pass worked, when that is less than it took (waits). */
  protected passWorkMs: number | undefined;

  constructor(private readonly loopOptions: BackgroundOptions) {}

  /** One pass; true when more is due right away. */
  protected abstract runPass(): Promise<boolean>;
  /** Milliseconds until the next pass is due, or null for nothing known. */
  protected abstract nextDueIn(): Promise<number | null>;

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
    const delay = Math.max(0, this.lastRunAt + this.wokenSpacing() - now);
    // A timer that fires sooner already covers this wake-up.
    if (this.timer !== undefined && this.timerAt <= now + delay) return;
    this.arm(delay);
  }

  private wokenSpacing(): number {
    const { minIntervalMs = 0, spacingFactor = 0, maxIntervalMs = Infinity } = this.loopOptions;
    return Math.max(minIntervalMs, Math.min(maxIntervalMs, spacingFactor * this.lastPassMs));
  }

  /** Runs passes until nothing is due; resolves when done. */
  runOnce(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
      // A wake-up between the loop's last look and now: not lost.
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
        this.passWorkMs = undefined;
        more = await this.runPass();
        this.lastPassMs = this.passWorkMs ?? Date.now() - this.lastRunAt;
        // Synchronous drivers resolve at once: give requests a turn between passes.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.stopped) return;
      const due = (await this.nextDueIn()) ?? this.loopOptions.maxSleepMs;
      if (this.stopped) return;
      // Woken during the pass: the next woken run, unless something is due before.
      this.arm(this.again ? Math.min(due, this.lastRunAt + this.wokenSpacing() - Date.now()) : due);
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
