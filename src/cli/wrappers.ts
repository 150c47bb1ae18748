import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadClientConfig } from '../config.js';
import { VigilError } from '../errors.js';

// Keep the last 100 KB of output: the end of a failed job's log is what explains it.
const OUTPUT_TAIL = 100 * 1024;

interface ClientFlags {
  identifier: string;
  url?: string;
  apiKey?: string;
}

function client(flags: ClientFlags): { url: string; key: string } {
  const config = loadClientConfig();
  const key = flags.apiKey ?? config.pushApiKey;
  if (!key) throw new VigilError('missing_api_key', 'push API key: pass --api-key or set VIGIL_PUSH_API_KEY');
  return { url: (flags.url ?? config.url).replace(/\/+$/, ''), key };
}

/** Sends one check-in; a Vigil that cannot be reached never fails the job itself. */
async function send(base: { url: string; key: string }, path: string, params: Record<string, string>, body?: Buffer): Promise<void> {
  const query = new URLSearchParams({ api_key: base.key, ...params });
  try {
    const response = await fetch(`${base.url}${path}?${query}`, { method: 'POST', ...(body ? { body } : {}), signal: AbortSignal.timeout(10_000) });
    if (!response.ok) process.stderr.write(`vigil: check-in refused: ${response.status} ${await response.text()}\n`);
    else {
      const answer = (await response.json()) as { rejected?: { message: string }[] };
      for (const r of answer.rejected ?? []) process.stderr.write(`vigil: check-in rejected: ${r.message}\n`);
    }
  } catch (error) {
    process.stderr.write(`vigil: could not reach ${base.url}: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

const withClientOptions = (command: Command): Command =>
  command
    .requiredOption('--identifier <identifier>', 'monitor identifier')
    .option('--url <url>', 'Vigil base URL (default VIGIL_URL or http://127.0.0.1:8080)')
    .option('--api-key <key>', 'app push API key (default VIGIL_PUSH_API_KEY)');

/** `vigil exec -- CMD…`: start, run, then finish (exit 0) or fail with exit code and output. */
export function execCommand(program: Command): void {
  withClientOptions(program.command('exec').description('run a command and report its start and end to a cron monitor'))
    .argument('<command...>', 'the command to run (put it after --)')
    .action(async (argv: string[], flags: ClientFlags) => {
      const base = client(flags);
      const digest = randomBytes(8).toString('hex');
      await send(base, '/check_ins/cron', { identifier: flags.identifier, kind: 'start', digest, timestamp: now() });
      const [file, ...args] = argv;
      const child = spawn(file!, args, { stdio: ['inherit', 'pipe', 'pipe'] });
      let tail = Buffer.alloc(0);
      const keep = (chunk: Buffer) => {
        tail = Buffer.concat([tail, chunk]);
        if (tail.length > OUTPUT_TAIL) tail = tail.subarray(tail.length - OUTPUT_TAIL);
      };
      child.stdout.on('data', (chunk: Buffer) => (process.stdout.write(chunk), keep(chunk)));
      child.stderr.on('data', (chunk: Buffer) => (process.stderr.write(chunk), keep(chunk)));
      const code = await new Promise<number>((resolve) => {
        child.on('error', (error) => {
          keep(Buffer.from(`vigil: could not start ${file}: ${error.message}\n`));
          resolve(127);
        });
        child.on('close', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
      });
      if (code === 0) {
        await send(base, '/check_ins/cron', { identifier: flags.identifier, kind: 'finish', digest, timestamp: now() });
      } else {
        await send(base, '/check_ins/cron', { identifier: flags.identifier, kind: 'fail', digest, timestamp: now(), exit_code: String(code) }, tail);
      }
      process.exitCode = code;
    });
}

/** `vigil heartbeat`: one heartbeat (from a shell loop, a healthcheck, a cron line). */
export function heartbeatCommand(program: Command): void {
  withClientOptions(program.command('heartbeat').description('send one heartbeat')).action(async (flags: ClientFlags) => {
    await send(client(flags), '/check_ins/heartbeats', { identifier: flags.identifier, timestamp: now() });
  });
}

const now = () => String(Math.floor(Date.now() / 1000));
