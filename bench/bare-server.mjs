// The baseline: a bare node:http server doing the least an ingest endpoint must do —
// read the whole request body, then answer 200 with a small JSON body shaped like
// Vigil's (`{"accepted":N,"rejected":[]}`, N = NDJSON lines, 1 for an empty body), so
// the load generator sees identical responses from both servers.
//
// Run by bench/run.mjs in its own process (so it gets a core, like Vigil does). Prints
// `{"msg":"bare listening","port":N}` on stdout once listening; exits on SIGTERM.
import { createServer } from 'node:http';

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

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = `{"accepted":${countLines(chunks)},"rejected":[]}`;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  req.on('error', () => res.destroy());
});

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
