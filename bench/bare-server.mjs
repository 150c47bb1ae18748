// The baseline: a bare node:http server doing the least an ingest endpoint must do —
// read the whole request body, then answer 200 with a small JSON body shaped like
// Vigil's (`{"accepted":N,"rejected":[]}`, N = NDJSON lines, 1 for an empty body), so
// the load generator sees identical responses from both servers.
//
// With BARE_DURABLE_FILE=path it is the durable baseline: the least any server with
// durable acks must do on top. Each request's body is appended to a log file and answered
// only once that append is fdatasynced, with Vigil's architecture minus everything Vigil
// does: what one event-loop turn read goes to a worker thread at once, the worker writes
// every batch queued behind the one it woke for and fdatasyncs once (group commit), then
// acks. The log is preallocated and reused in a circle, so a sync never has to update the
// file's size: a best case no database can beat.
//
// Run by bench/run.mjs in its own process (so it gets a core, like Vigil does). Prints
// `{"msg":"bare listening","port":N}` on stdout once listening; exits on SIGTERM.
import { createServer } from 'node:http';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { Worker, isMainThread, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';

const LOG_BYTES = 64 * 2 ** 20;

if (!isMainThread) {
  // The durable baseline's log writer.
  const fd = openSync(workerData.file, 'w+');
  const zeros = Buffer.alloc(2 ** 20);
  for (let at = 0; at < LOG_BYTES; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
  fdatasyncSync(fd);
  let offset = 0;
  const append = (buffer) => {
    const data = Buffer.from(buffer);
    if (offset + data.length > LOG_BYTES) offset = 0;
    writeSync(fd, data, 0, data.length, offset);
    offset += data.length;
  };
  parentPort.on('message', (first) => {
    const ids = [first.id];
    append(first.buffer);
    for (let next = receiveMessageOnPort(parentPort); next; next = receiveMessageOnPort(parentPort)) {
      ids.push(next.message.id);
      append(next.message.buffer);
    }
    fdatasyncSync(fd);
    parentPort.postMessage(ids);
  });
  parentPort.postMessage('ready');
  process.on('exit', () => closeSync(fd));
}

const NEWLINE = 0x0a;

function countLines(chunks) {
  let size = 0;
  let newlines = 0;
  for (const chunk of chunks) {
    size += chunk.length;
    let at = chunk.indexOf(NEWLINE);
    while (at !== -1) {
      newlines += 1;
      at = chunk.indexOf(NEWLINE, at + 1);
    }
  }
  return size === 0 ? 1 : newlines + 1;
}

function answer(res, lines) {
  const body = `{"accepted":${lines},"rejected":[]}`;
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The durable baseline's group commit: `durable(chunks, done)` calls done once synced. */
function durableLog(file) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { file } });
  const pending = new Map();
  let nextId = 1;
  let chunks = [];
  let callbacks = [];
  let scheduled = false;
  const ready = new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message) => {
      if (message === 'ready') return resolve();
      for (const id of message) for (const done of pending.get(id)) done();
      for (const id of message) pending.delete(id);
    });
  });
  const flush = () => {
    scheduled = false;
    const data = Buffer.concat(chunks);
    const id = nextId++;
    pending.set(id, callbacks);
    chunks = [];
    callbacks = [];
    const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
    worker.postMessage({ id, buffer }, [buffer]);
  };
  const write = (body, done) => {
    for (const chunk of body) chunks.push(chunk);
    chunks.push(NEWLINE_BUFFER);
    callbacks.push(done);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return { ready, write };
}

const NEWLINE_BUFFER = Buffer.from('\n');
const durable = isMainThread && process.env.BARE_DURABLE_FILE ? durableLog(process.env.BARE_DURABLE_FILE) : null;

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (durable) durable.write(chunks, () => answer(res, countLines(chunks)));
    else answer(res, countLines(chunks));
  });
  req.on('error', () => res.destroy());
});

if (isMainThread) {
  await durable?.ready;
  server.listen({ host: process.env.BARE_HOST ?? '127.0.0.1', port: Number(process.env.BARE_PORT ?? 0) }, () => {
    process.stdout.write(`${JSON.stringify({ msg: 'bare listening', port: server.address().port })}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
