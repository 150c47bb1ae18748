import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { loadClientConfig } from '../config.js';
import { VigilError, reason } from '../errors.js';

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

/** One line of a server's answer: `{"error":{"code","message"}}`, else its text, squeezed. */
async function describeRefusal(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (error?.message) return `${response.status} ${error.message}${error.code ? ` (${error.code})` : ''}`;
  } catch {
    // not JSON: a proxy or another server answered
  }
  const squeezed = text.replace(/\s+/g, ' ').trim();
  return `${response.status} ${squeezed.length > 200 ? `${squeezed.slice(0, 200)}…` : squeezed}`.trim();
}

/**
 * Sends one check-in. Never throws: returns why the check-in was not accepted (one line),
 * or undefined when it was. The caller decides whether that fails it.
 */
async function send(base: { url: string; key: string }, path: string, params: Record<string, string>, body?: Buffer): Promise<string | undefined> {
  const query = new URLSearchParams({ api_key: base.key, ...params });
  let response: Response;
  try {
    response = await fetch(`${base.url}${path}?${query}`, { method: 'POST', ...(body ? { body } : {}), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    return `could not reach ${base.url}: ${reason(error)}`;
  }
  if (!response.ok) return `refused by ${base.url}: ${await describeRefusal(response)}`;
  let answer: { accepted?: unknown; rejected?: unknown } | null;
  try {
    answer = (await response.json()) as typeof answer;
  } catch {
    answer = null;
  }
  if (typeof answer !== 'object' || answer === null) {
    return `unexpected answer from ${base.url} (${response.status}, not a check-in result): is it a Vigil server?`;
  }
  const rejected = Array.isArray(answer.rejected) ? (answer.rejected as { code?: string; message?: string }[]) : [];
  if (rejected.length > 0) return `rejected by ${base.url}: ${rejected.map((r) => `${r.message ?? 'no reason given'}${r.code ? ` (${r.code})` : ''}`).join('; ')}`;
  if (answer.accepted === 0) return `not accepted by ${base.url}`;
  return undefined;
}

const withClientOptions = (command: Command): Command =>
  command
    .requiredOption('--identifier <identifier>', 'monitor identifier')
    .option('--url <url>', 'Vigil base URL (default VIGIL_URL or http://127.0.0.1:8080)')
    .option('--api-key <key>', 'app push API key (default VIGIL_PUSH_API_KEY)');

/** A monitoring hiccup never fails the job: `exec` only warns. */
function warn(problem: string | undefined): void {
  if (problem) process.stderr.write(`vigil: warning: check-in not recorded: ${problem}\n`);
}

/**
 * `vigil exec -- CMD…`: start, run, then finish (exit 0) or fail with exit code and output.
 * Exits with the command's own code, whether or not Vigil could be reached.
 */
export function execCommand(program: Command): void {
  withClientOptions(program.command('exec').description('run a command and report its start and end to a cron monitor'))
    .argument('<command...>', 'the command to run (put it after --)')
    .action(async (argv: string[], flags: ClientFlags) => {
      const base = client(flags);
      const digest = randomBytes(8).toString('hex');
      warn(await send(base, '/check_ins/cron', { identifier: flags.identifier, kind: 'start', digest, timestamp: now() }));
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
          const message = Buffer.from(`vigil: could not start ${file}: ${error.message}\n`);
          process.stderr.write(message);
          keep(message);
          resolve(127);
        });
        // Killed by a signal: 128 + its number, as shells report it.
        child.on('close', (status, signal) => resolve(status ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
      });
      if (code === 0) {
        warn(await send(base, '/check_ins/cron', { identifier: flags.identifier, kind: 'finish', digest, timestamp: now() }));
      } else {
        warn(await send(base, '/check_ins/cron', { identifier: flags.identifier, kind: 'fail', digest, timestamp: now(), exit_code: String(code) }, tail));
      }
      process.exitCode = code;
    });
}

/** `vigil heartbeat`: one heartbeat (from a shell loop, a healthcheck, a cron line); exit 0 only once it is recorded. */
export function heartbeatCommand(program: Command): void {
  withClientOptions(program.command('heartbeat').description('send one heartbeat; exits 1 when it was not accepted')).action(
    async (flags: ClientFlags) => {
      // Unlike `exec`, sending is the whole job: a heartbeat that was not recorded is a failure.
      const problem = await send(client(flags), '/check_ins/heartbeats', { identifier: flags.identifier, timestamp: now() });
      if (problem) {
        process.stderr.write(`vigil: heartbeat not recorded: ${problem}\n`);
        process.exitCode = 1;
      }
    },
  );
}

const now = () => String(Math.floor(Date.now() / 1000));
