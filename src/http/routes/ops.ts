import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

/** `/healthz` (process up), `/readyz` (database reachable, migrations applied), `/metrics`. */
export function opsRoutes(app: FastifyInstance, services: Services): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await services.store.ping();
      const pending = await services.store.pendingMigrations();
      if (pending > 0) return reply.status(503).send({ status: 'not_ready', reason: `${pending} migrations not applied` });
      if (services.isStopping()) return reply.status(503).send({ status: 'not_ready', reason: 'shutting down' });
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'not_ready', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.header('content-type', services.metrics.contentType).send(await services.metrics.metrics());
  });
}
