import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { VigilError } from '../errors.js';
import { Vigil } from '../server.js';
import { openDatabase } from './context.js';
import { reason } from './reason.js';

// Why `listen` failed, by the variable that chose what to listen on.
const LISTEN_ERRORS: Readonly<Record<string, 'VIGIL_HOST' | 'VIGIL_PORT'>> = {
  ENOTFOUND: 'VIGIL_HOST',
  EAI_AGAIN: 'VIGIL_HOST',
  EAI_FAIL: 'VIGIL_HOST',
  EADDRNOTAVAIL: 'VIGIL_HOST',
  EADDRINUSE: 'VIGIL_PORT',
  EACCES: 'VIGIL_PORT',
};

/** Builds the server; the first admin's rules are checked again here, in case they change in one place only. */
async function create(config: Config): Promise<Vigil> {
  // Vigil.create opens the database itself; opening it once first names a bad VIGIL_DATABASE_URL.
  await (await openDatabase(config)).close();
  try {
    return await Vigil.create(config);
  } catch (error) {
    if (error instanceof VigilError && (error.field === 'email' || error.field === 'password')) {
      throw new ConfigError(`VIGIL_ADMIN_${error.field.toUpperCase()}`, error.message);
    }
    throw error;
  }
}

async function start(vigil: Vigil): Promise<void> {
  try {
    await vigil.start();
  } catch (error) {
    await vigil.stop().catch(() => undefined);
    const variable = LISTEN_ERRORS[String((error as { code?: unknown }).code)];
    if (!variable) throw error;
    throw new ConfigError(variable, `cannot listen on ${vigil.config.host}:${vigil.config.port}: ${reason(error)}`);
  }
}

/** `vigil serve`: runs until SIGTERM/SIGINT, then stops gracefully (forcefully after 10 s or a second signal). */
export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the dashboard, REST API and ingest API (configured by VIGIL_* variables)')
    .action(async () => {
      const vigil = await create(loadConfig());
      await start(vigil);
      let signals = 0;
      const shutdown = (signal: string) => {
        signals += 1;
        if (signals > 1) {
          vigil.logger.warn({ signal }, 'second signal: exiting now');
          process.exit(1);
        }
        vigil.logger.info({ signal }, 'shutting down');
        // Forceful after 10 s: a stuck client must not keep a deploy waiting forever.
        setTimeout(() => process.exit(1), 10_000).unref();
        vigil.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            vigil.logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    });
}
