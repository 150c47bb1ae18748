import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerFactory } from 'fastify';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { bearerAuth } from './auth.js';
import { installErrorHandling } from './errors.js';
import { accountRoutes } from './routes/accounts.js';
import { alertingRoutes } from './routes/alerting.js';
import { appRoutes } from './routes/apps.js';
import { monitorRoutes } from './routes/monitors.js';
import { opsRoutes } from './routes/ops.js';
import { scheduleRoutes } from './routes/schedule.js';
import type { Services } from './services.js';

export interface AppOptions {
  readonly logger?: Logger;
  /** Lets the ingest fast path sit in front of the framework on the same server. */
  readonly serverFactory?: FastifyServerFactory;
  /** Replaces Fastify's answer to a malformed HTTP request. */
  readonly clientErrorHandler?: (error: Error & { code?: string }, socket: Duplex) => void;
}

/** Builds the REST application (not listening); `inject()` tests it in-process. */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per request would drown the log; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // maxParamLength: an identifier in a path (PUT …/by-identifier/{identifier}) is up to 255
    // characters, each up to 4 UTF-8 bytes, each byte up to 3 characters percent-encoded.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 255 * 4 * 3 },
    // Errors raised before routing (a malformed percent-encoding) get the API's error shape too.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).status(400).send({ error: { code: 'bad_request', message: `malformed request URL: ${error.message}` } });
    },
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    ...(options.clientErrorHandler ? { clientErrorHandler: options.clientErrorHandler } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  app.decorateRequest('user', null);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Vigil management API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  opsRoutes(app, services);
  await app.register(
    async (api) => {
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
      await api.register(async (authed) => {
        authed.addHook('onRequest', bearerAuth(services.accounts));
        appRoutes(authed, services);
        monitorRoutes(authed, services);
        scheduleRoutes(authed, services);
        accountRoutes(authed, services);
        alertingRoutes(authed, services);
      });
    },
    { prefix: '/api/v1' },
  );
  return app;
}
