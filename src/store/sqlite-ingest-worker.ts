/**
 * The ingest writer thread: its own better-sqlite3 connection to the same database file,
 * committing the batches `SqliteStore.writeIngest` posts and answering each with an ack
 * only after the commit (and its fsync) returned. This is where group commit happens:
 * every batch that arrived while the previous commit ran joins the next one, which starts
 * as soon as that commit ends. Started by `SqliteStore` after migrations; see
 * `IngestCommitter` for the connection's settings.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { IngestCommitter, type EncodedBatch, type IngestCommitterOptions } from './sqlite-ingest.js';

export interface IngestWorkerData {
  readonly path: string;
  readonly options: IngestCommitterOptions;
}

export type ToIngestWorker = { readonly type: 'write'; readonly id: number; readonly batch: EncodedBatch } | { readonly type: 'close' };

export type FromIngestWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'ack'; readonly ids: readonly number[] }
  | { readonly type: 'fail'; readonly ids: readonly number[]; readonly message: string; readonly code: string | undefined }
  | { readonly type: 'closed' };

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * better-sqlite3's SqliteError does not survive the trip to the main thread's 'error'
 * event (its message is lost): an uncaught error leaves this thread as a plain Error.
 */
function plainError(error: unknown): Error {
  const code = errorCode(error);
  return new Error(code ? `${code}: ${errorMessage(error)}` : errorMessage(error));
}

function run(): void {
  const port = parentPort;
  if (!port) throw new Error('sqlite-ingest-worker must run in a worker thread');
  const { path, options } = workerData as IngestWorkerData;
  let committer: IngestCommitter;
  try {
    committer = new IngestCommitter(path, options);
  } catch (error) {
    // Ends the thread with an 'error' event, e.g. when the schema is missing.
    throw plainError(error);
  }
  const post = (message: FromIngestWorker): void => port.postMessage(message);
  const checkpoint = (): void => {
    try {
      committer.maybeCheckpoint();
    } catch (error) {
      // An I/O error checkpointing: the thread ends, every write rejects, /readyz fails.
      throw plainError(error);
    }
  };

  // Checkpoints also happen when no batch comes (the main connection writes too).
  const idle = setInterval(checkpoint, options.checkpointIntervalMs ?? 1000);

  const close = (): void => {
    clearInterval(idle);
    port.removeAllListeners('message');
    committer.close();
    post({ type: 'closed' });
    port.close();
  };

  port.on('message', (first: ToIngestWorker) => {
    if (first.type === 'close') return close();
    // Everything queued behind this batch joins its commit.
    const writes = [first];
    let closing = false;
    for (let next = receiveMessageOnPort(port as MessagePort); next; next = receiveMessageOnPort(port as MessagePort)) {
      const message = next.message as ToIngestWorker;
      if (message.type === 'close') {
        closing = true;
        break;
      }
      writes.push(message);
    }
    commitAll(committer, writes, post);
    if (closing) return close();
    // After the acks: a checkpoint delays the next commit, never these answers.
    checkpoint();
  });
  post({ type: 'ready' });
}

/**
 * Errors one batch can cause by its content (a constraint, a value too big): after such a
 * failure of a merged commit, each batch is retried alone, so only the bad one fails. Any
 * other error (busy, I/O, disk full) is the database's and fails them all at once: retried
 * one by one, each would wait out busy_timeout in turn.
 */
const BATCH_ERRORS = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;

/** Commits the writes together and acks them in one message (or fails them in one). */
function commitAll(committer: IngestCommitter, writes: Extract<ToIngestWorker, { type: 'write' }>[], post: (message: FromIngestWorker) => void): void {
  try {
    committer.commit(...writes.map((w) => w.batch));
    post({ type: 'ack', ids: writes.map((w) => w.id) });
  } catch (error) {
    const code = errorCode(error);
    if (writes.length > 1 && code !== undefined && BATCH_ERRORS.test(code)) {
      for (const write of writes) commitAll(committer, [write], post);
      return;
    }
    post({ type: 'fail', ids: writes.map((w) => w.id), message: errorMessage(error), code });
  }
}

run();
