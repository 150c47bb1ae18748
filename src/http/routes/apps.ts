import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { AppCreateSchema, AppPatchSchema } from '../../monitors/schema.js';
import { PageQuery, idParam, pageFrom } from '../params.js';

const AppParams = Type.Object({ app_id: Type.String() });

/** Apps, push-key rotation and ingest errors (SPEC §4). */
export function appRoutes(app: FastifyInstance, services: Services): void {
  app.post('/apps', { schema: { tags: ['apps'], body: AppCreateSchema } }, async (request, reply) => {
    return reply.status(201).send(await services.apps.create(request.body));
  });
  app.get('/apps', { schema: { tags: ['apps'] } }, async () => ({ data: await services.apps.list(), next_cursor: null }));
  app.get<{ Params: { app_id: string } }>('/apps/:app_id', { schema: { tags: ['apps'], params: AppParams } }, async (request) =>
    services.apps.get(idParam(request.params.app_id, 'app')),
  );
  app.patch<{ Params: { app_id: string } }>(
    '/apps/:app_id',
    { schema: { tags: ['apps'], params: AppParams, body: AppPatchSchema } },
    async (request) => services.apps.update(idParam(request.params.app_id, 'app'), request.body),
  );
  app.delete<{ Params: { app_id: string } }>('/apps/:app_id', { schema: { tags: ['apps'], params: AppParams } }, async (request, reply) => {
    await services.apps.delete(idParam(request.params.app_id, 'app'));
    return reply.status(204).send();
  });
  app.post<{ Params: { app_id: string } }>(
    '/apps/:app_id/push-key/rotate',
    { schema: { tags: ['apps'], params: AppParams } },
    async (request) => services.apps.rotateKey(idParam(request.params.app_id, 'app')),
  );
  app.get<{ Params: { app_id: string }; Querystring: { limit?: string; cursor?: string } }>(
    '/apps/:app_id/ingest-errors',
    { schema: { tags: ['apps'], params: AppParams, querystring: Type.Object(PageQuery) } },
    async (request) => services.history.ingestErrors(idParam(request.params.app_id, 'app'), pageFrom(request.query)),
  );
}
