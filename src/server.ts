import { ServerResponse, createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { AccountsService } from './accounts/service.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { buildApp } from './http/app.js';
import type { Services } from './http/services.js';
import { createIngestHandler } from './ingest/handler.js';
import { CheckInHistory } from './ingest/history.js';
import { IngestWriter } from './ingest/writer.js';
import { Evaluator } from './evaluation/evaluator.js';
import { EvaluationHistory } from './evaluation/history.js';
import { Liveness } from './evaluation/liveness.js';
import { closeEmailTransports, createChannels } from './notify/channels/index.js';
import { DeliveryWorker, type DeliveryOptions } from './notify/outbox.js';
import { NotifiersService } from './notify/service.js';
import { createMetrics } from './metrics.js';
import { AppsService } from './monitors/apps.js';
import { Catalog } from './monitors/catalog.js';
import { MonitorsService } from './monitors/service.js';
import { openDatabase, type Store } from './store/index.js';

const CATALOG_REFRESH_MS = 1000;

/**
 * Node answers a malformed request with 400 at once, even while the previous request on
 * the connection is still being stored. AppSignal's Node client counts Content-Length in
 * UTF-16 units, so the tail of a non-ASCII batch arrives as garbage: Node's early 400 would
 * reach the client instead of our 200. Let the pending answer go out first, then close.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const pending: unknown = Reflect.get(socket, '_httpMessage');
  if (pending instanceof ServerResponse && !pending.writableFinished) {
    pending.on('finish', () => socket.end());
    return;
  }
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: 'bad_request', message: 'malformed HTTP request' } });
  socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

export interface VigilOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Retry timing of notifications (tests shorten it). */
  readonly delivery?: DeliveryOptions;
}

/** One Vigil process: store, ingest writer and HTTP server, with `start()`/`stop()`. */
export class Vigil {
  private stopping = false;
  private catalogTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: Config,
    readonly store: Store,
    readonly services: Services,
    readonly writer: IngestWriter,
    readonly app: FastifyInstance,
    readonly logger: Logger,
    private readonly catalog: Catalog,
    readonly evaluator: Evaluator,
    readonly deliveries: DeliveryWorker,
    private readonly liveness: Liveness,
  ) {}

  /** Opens the database, applies migrations, loads the catalog and builds the server. */
  static async create(config: Config, options: VigilOptions = {}): Promise<Vigil> {
    const logger = options.logger ?? pino({ level: config.logLevel });
    const clock = options.clock ?? systemClock;
    const store = await openDatabase(config.databaseUrl);
    try {
      const applied = await store.migrate();
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
      const catalog = new Catalog();
      await catalog.load(store);
      const accounts = new AccountsService(store, clock);
      const admin = await accounts.ensureFirstAdmin(config.adminEmail, config.adminPassword);
      if (admin) logger.info({ email: admin.email }, 'first admin created from VIGIL_ADMIN_EMAIL');
      const writer = new IngestWriter(store);
      const created: { vigil?: Vigil } = {};
      const registry = createChannels({ smtpUrl: config.smtpUrl, from: config.mailFrom });
      const deliveries = new DeliveryWorker(store, registry, clock, logger, options.delivery);
      const evaluator = new Evaluator(store, clock, logger, {
        tolerance: config.ingestTolerance * 1000,
        baseUrl: config.baseUrl,
        onEnqueued: () => deliveries.wake(),
      });
      const notifiers = new NotifiersService(store, registry, clock, config.baseUrl);
      const metrics = createMetrics({ store, evaluator, deliveries });
      const services: Services = {
        store,
        clock,
        accounts,
        apps: new AppsService(store, catalog, clock),
        monitors: new MonitorsService(store, catalog, clock, {
          changed: () => evaluator.wake(),
          assertNotifiers: (ids) => notifiers.assertExist(ids),
        }),
        history: new CheckInHistory(store),
        evaluation: new EvaluationHistory(store),
        notifiers,
        metrics: metrics.registry,
        isStopping: () => created.vigil?.stopping ?? false,
      };
      const ingest = createIngestHandler({
        catalog,
        writer,
        clock,
        bodyLimit: config.ingestBodyLimit,
        maxClockSkew: config.maxClockSkew * 1000,
        observe: metrics.observeIngest,
        onCommitted: () => evaluator.wake(),
      });
      const app = await buildApp(services, {
        logger,
        clientErrorHandler: answerClientError,
        serverFactory: (handler) =>
          createServer((req, res) => {
            if (!ingest(req, res)) handler(req, res);
          }),
      });
      created.vigil = new Vigil(config, store, services, writer, app, logger, catalog, evaluator, deliveries, new Liveness(store, clock, logger));
      return created.vigil;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  get server(): Server {
    return this.app.server;
  }

  /** Starts listening; resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    // Record Vigil's own downtime before the evaluator judges anything that fell in it.
    await this.liveness.start();
    this.evaluator.start();
    this.deliveries.start();
    await this.app.listen({ host: this.config.host, port: this.config.port });
    // Changes made by the CLI or another instance reach this process within a second.
    this.catalogTimer = setInterval(() => {
      this.catalog.refresh(this.store).catch((error: unknown) => this.logger.warn({ err: error }, 'catalog refresh failed'));
    }, CATALOG_REFRESH_MS);
    this.catalogTimer.unref();
    const address = this.server.address() as AddressInfo;
    this.logger.info({ host: address.address, port: address.port, database: this.store.description }, 'vigil listening');
    return address;
  }

  /**
   * Graceful stop: refuse new connections, let in-flight requests finish, commit every
   * queued check-in, close the database.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.catalogTimer);
    this.server.closeIdleConnections();
    await this.app.close();
    await this.writer.stop();
    await this.evaluator.stop();
    await this.deliveries.stop();
    await this.liveness.stop();
    closeEmailTransports();
    await this.store.close();
    this.logger.info('vigil stopped');
  }
}
