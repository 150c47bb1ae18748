import { VigilError } from '../errors.js';
import type { NewCheckInEvent, NewIngestError, Store } from '../store/index.js';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Beyond this many queued events new requests are refused (503) instead of growing memory. */
const MAX_PENDING_EVENTS = 500_000;

/**
 * Group commit: every request's events join the next transaction, and a transaction
 * starts as soon as the previous one finishes — never on a timer, since a timer caps
 * throughput at connections ÷ interval. Each caller's promise resolves only once its
 * rows are committed, so the HTTP answer follows durability.
 *
 * Where the store groups by itself (`Store.groupsIngestCommits`: SQLite's ingest thread
 * merges every batch that arrived during its previous commit), this hands over what each
 * turn of the event loop parsed at once, without waiting for the previous commit: the
 * next commit then starts the moment the previous one ends on the thread, not once this
 * thread, busy answering requests, has read the acknowledgement.
 */
export class IngestWriter {
  private events: NewCheckInEvent[] = [];
  private errors: NewIngestError[] = [];
  private waiters: Waiter[] = [];
  /** Commits handed to the store, not settled yet: at most one unless the store groups. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Events in those commits. */
  private inFlightEvents = 0;
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly maxPendingEvents = MAX_PENDING_EVENTS,
  ) {}

  /** Queues rows; resolves once they are committed. */
  write(events: readonly NewCheckInEvent[], errors: readonly NewIngestError[]): Promise<void> {
    if (this.stopped) return Promise.reject(new VigilError('not_ready', 'Vigil is shutting down'));
    if (this.events.length + this.inFlightEvents > this.maxPendingEvents) {
      return Promise.reject(new VigilError('not_ready', 'too many check-ins waiting to be stored; retry shortly'));
    }
    if (events.length === 0 && errors.length === 0) return Promise.resolve();
    for (const e of events) this.events.push(e);
    for (const e of errors) this.errors.push(e);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    // A store that does not group gets the next commit when the current one returns (commit()).
    if (this.scheduled || (this.inFlight.size > 0 && !this.store.groupsIngestCommits)) return;
    this.scheduled = true;
    // setImmediate: let every request already parsed in this turn of the event loop join.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Hands everything queued to the store as one group commit. */
  private flush(): void {
    const events = this.events;
    const errors = this.errors;
    const waiters = this.waiters;
    this.events = [];
    this.errors = [];
    this.waiters = [];
    const commit = this.commit(events, errors, waiters);
    this.inFlight.add(commit);
    this.inFlightEvents += events.length;
    void commit.finally(() => {
      this.inFlight.delete(commit);
      this.inFlightEvents -= events.length;
    });
  }

  private async commit(events: NewCheckInEvent[], errors: NewIngestError[], waiters: Waiter[]): Promise<void> {
    let failure: { error: unknown } | undefined;
    try {
      await this.store.writeIngest({ events, errors });
    } catch (error) {
      failure = { error };
    }
    // A store that does not group: the next commit starts now, before these callers are
    // answered, so the store commits it while this thread sends the answers. Whatever
    // queued during the commit is in it.
    if (!this.store.groupsIngestCommits && this.waiters.length > 0) this.flush();
    for (const w of waiters) {
      if (failure) w.reject(failure.error);
      else w.resolve();
    }
  }

  /** Resolves when everything queued so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.scheduled || this.waiters.length > 0 || this.inFlight.size > 0) {
      if (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Refuses new writes and waits for the queued ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.drain();
  }
}
