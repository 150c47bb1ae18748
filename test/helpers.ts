import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import type { Clock } from '../src/clock.js';
import { Vigil, type VigilOptions } from '../src/server.js';

export const ROOT = new URL('..', import.meta.url).pathname;

export function tempDir(prefix = 'vigil-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Running {
  readonly vigil: Vigil;
  readonly url: string;
  readonly token: string;
  readonly dir: string;
  /** Authenticated call to the REST API; returns status and parsed JSON. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Creates an app; returns its id and push key. */
  createApp(name?: string, environment?: string): Promise<{ id: string; key: string }>;
  createMonitor(appId: string, monitor: Record<string, unknown>): Promise<{ id: string }>;
  stop(): Promise<void>;
}

export const StoreKinds = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof StoreKinds)[number];

/** The PostgreSQL server the tests may use (CI sets it), or undefined. */
export const TEST_POSTGRES_URL = process.env.VIGIL_TEST_DATABASE_URL || undefined;

if (!TEST_POSTGRES_URL) {
  process.stderr.write('\n*** VIGIL_TEST_DATABASE_URL is not set: the PostgreSQL variants of the tests are SKIPPED ***\n\n');
}

/** Whether a store kind can be tested here (PostgreSQL needs VIGIL_TEST_DATABASE_URL). */
export const storeAvailable = (kind: StoreKind): boolean => kind === 'sqlite' || TEST_POSTGRES_URL !== undefined;

/**
 * A fresh, empty database of the given kind: a SQLite file in a temporary folder, or a new
 * schema on the test PostgreSQL server (selected through `search_path`).
 */
export async function freshDatabase(kind: StoreKind): Promise<{ url: string; drop: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = tempDir();
    return { url: `sqlite:${join(dir.path, 'vigil.db')}`, drop: async () => dir.remove() };
  }
  if (!TEST_POSTGRES_URL) throw new Error('VIGIL_TEST_DATABASE_URL is not set');
  const schema = `vigil_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

/** A real Vigil on a fresh database (SQLite unless `store` says otherwise), on a random port of 127.0.0.1. */
export async function startVigil(
  env: Record<string, string> = {},
  options: VigilOptions & { clock?: Clock; store?: StoreKind } = {},
): Promise<Running> {
  const dir = tempDir();
  const database = await freshDatabase(options.store ?? 'sqlite');
  const vigil = await Vigil.create(
    loadConfig({
      VIGIL_DATABASE_URL: database.url,
      VIGIL_PORT: '0',
      VIGIL_LOG_LEVEL: 'silent',
      ...env,
    }),
    options,
  );
  const address = await vigil.start();
  const url = `http://127.0.0.1:${address.port}`;
  const admin = await vigil.services.accounts.createUser({ email: `admin-${Date.now()}@example.com`, password: 'correct horse', role: 'admin' });
  const { token } = await vigil.services.accounts.createToken(admin.id, 'tests');
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  return {
    vigil,
    url,
    token,
    dir: dir.path,
    api,
    async createApp(name = `app-${Math.random().toString(36).slice(2)}`, environment = 'production') {
      const res = await api('POST', '/apps', { name, environment });
      if (res.status !== 201) throw new Error(`create app: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.id, key: res.body.push_api_key };
    },
    async createMonitor(appId, monitor) {
      const res = await api('POST', `/apps/${appId}/monitors`, monitor);
      if (res.status !== 201) throw new Error(`create monitor: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.id };
    },
    async stop() {
      await vigil.stop();
      await database.drop();
      dir.remove();
    },
  };
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
}

/**
 * Runs the built CLI (`npm test` builds first): what a user runs, and a third of the
 * start-up time of compiling the sources on the fly.
 */
export function cliArgs(...args: string[]): string[] {
  return ['--enable-source-maps', join(ROOT, 'dist/cli/main.js'), ...args];
}

/** Starts `vigil serve` as a child process and waits until it listens. */
export async function spawnServer(env: Record<string, string>): Promise<Spawned> {
  const child = spawn(process.execPath, cliArgs('serve'), {
    cwd: ROOT,
    env: { ...process.env, VIGIL_PORT: '0', VIGIL_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'vigil listening' && entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

/** Runs a CLI command to completion. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cliArgs(...args), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** POSTs to an ingest endpoint with a raw body; returns status and parsed JSON. */
export async function ingest(url: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
