import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { reason } from '../errors.js';
import { Vigil } from '../server.js';

// Why `listen` failed, by the variable that chose what to listen on.
const LISTEN_ERRORS: Readonly<Record<string, 'VIGIL_HOST' | 'VIGIL_PORT'>> = {
  ENOTFOUND: 'VIGIL_HOST',
  EAI_AGAIN: 'VIGIL_HOST',
  EAI_FAIL: 'VIGIL_HOST',
  EADDRNOTAVAIL: 'VIGIL_HOST',
  EADDRINUSE: 'VIGIL_PORT',
  EACCES: 'VIGIL_PORT',
};

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
      const vigil = await Vigil.create(loadConfig());
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
