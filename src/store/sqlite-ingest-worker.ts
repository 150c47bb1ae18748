/**
 * The ingest writer thread: its own better-sqlite3 connection to the same database file,
 * committing the batches `SqliteStore.writeIngest` posts, one at a time, and answering
 * each with an ack only after the commit (and its fsync) returned. Started by
 * `SqliteStore` after migrations; see `IngestCommitter` for the connection's settings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IngestCommitter, type EncodedBatch, type IngestCommitterOptions } from './sqlite-ingest.js';

export interface IngestWorkerData {
  readonly path: string;
  readonly options: IngestCommitterOptions;
}

export type ToIngestWorker = { readonly type: 'write'; readonly id: number; readonly batch: EncodedBatch } | { readonly type: 'close' };

export type FromIngestWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'ack'; readonly id: number }
  | { readonly type: 'fail'; readonly id: number; readonly message: string; readonly code: string | undefined }
  | { readonly type: 'closed' };

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function run(): void {
  const port = parentPort;
  if (!port) throw new Error('sqlite-ingest-worker must run in a worker thread');
  const { path, options } = workerData as IngestWorkerData;
  // Throws (and so ends the thread with an 'error' event) when the schema is missing.
  const committer = new IngestCommitter(path, options);
  const post = (message: FromIngestWorker): void => port.postMessage(message);

  // Checkpoints also happen when no batch comes (the main connection writes too).
  const idle = setInterval(() => committer.maybeCheckpoint(), options.checkpointIntervalMs ?? 1000);

  port.on('message', (message: ToIngestWorker) => {
    if (message.type === 'close') {
      clearInterval(idle);
      port.removeAllListeners('message');
      committer.close();
      post({ type: 'closed' });
      port.close();
      return;
    }
    try {
      committer.commit(message.batch);
    } catch (error) {
      post({ type: 'fail', id: message.id, message: error instanceof Error ? error.message : String(error), code: errorCode(error) });
      return;
    }
    post({ type: 'ack', id: message.id });
    // After the ack: a checkpoint delays the next batch, never this one's answer.
    committer.maybeCheckpoint();
  });
  post({ type: 'ready' });
}

run();
