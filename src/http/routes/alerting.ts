import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NotifierCreateSchema, NotifierPatchSchema } from '../../notify/service.js';
import { PageQuery, idParam, pageFrom } from '../params.js';
import type { Services } from '../services.js';

const IdParams = Type.Object({ id: Type.String() });

/** Occurrences, incidents with their deliveries, and notifiers (SPEC §4). */
export function alertingRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string }; Querystring: { limit?: string; cursor?: string; status?: string; from?: string; to?: string } }>(
    '/monitors/:id/occurrences',
    {
      schema: {
        tags: ['monitors'],
        params: IdParams,
        querystring: Type.Object({
          ...PageQuery,
          status: Type.Optional(Type.String({ maxLength: 16 })),
          from: Type.Optional(Type.String({ maxLength: 64 })),
          to: Type.Optional(Type.String({ maxLength: 64 })),
        }),
      },
    },
    async (request) => {
      const { status, from, to } = request.query;
      return services.evaluation.occurrences(idParam(request.params.id, 'monitor'), { status, from, to }, pageFrom(request.query));
    },
  );
  app.get<{ Querystring: { limit?: string; cursor?: string; monitor_id?: string; state?: string } }>(
    '/incidents',
    {
      schema: {
        tags: ['incidents'],
        querystring: Type.Object({
          ...PageQuery,
          monitor_id: Type.Optional(Type.String({ maxLength: 16 })),
          state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
        }),
      },
    },
    async (request) => {
      const { monitor_id, state } = request.query;
      return services.evaluation.incidents(
        { monitorId: monitor_id === undefined ? undefined : idParam(monitor_id, 'monitor'), state },
        pageFrom(request.query),
      );
    },
  );
  app.get<{ Params: { id: string } }>('/incidents/:id', { schema: { tags: ['incidents'], params: IdParams } }, async (request) =>
    services.evaluation.incident(idParam(request.params.id, 'incident')),
  );
  app.get<{ Params: { id: string } }>('/incidents/:id/deliveries', { schema: { tags: ['incidents'], params: IdParams } }, async (request) =>
    services.evaluation.deliveries(idParam(request.params.id, 'incident')),
  );

  app.post('/notifiers', { schema: { tags: ['notifiers'], body: NotifierCreateSchema } }, async (request, reply) =>
    reply.status(201).send(await services.notifiers.create(request.body)),
  );
  app.get('/notifiers', { schema: { tags: ['notifiers'] } }, async () => ({ data: await services.notifiers.list(), next_cursor: null }));
  app.get<{ Params: { id: string } }>('/notifiers/:id', { schema: { tags: ['notifiers'], params: IdParams } }, async (request) =>
    services.notifiers.get(idParam(request.params.id, 'notifier')),
  );
  app.patch<{ Params: { id: string } }>(
    '/notifiers/:id',
    { schema: { tags: ['notifiers'], params: IdParams, body: NotifierPatchSchema } },
    async (request) => services.notifiers.update(idParam(request.params.id, 'notifier'), request.body),
  );
  app.delete<{ Params: { id: string } }>('/notifiers/:id', { schema: { tags: ['notifiers'], params: IdParams } }, async (request, reply) => {
    await services.notifiers.delete(idParam(request.params.id, 'notifier'));
    return reply.status(204).send();
  });
  app.post<{ Params: { id: string } }>('/notifiers/:id/test', { schema: { tags: ['notifiers'], params: IdParams } }, async (request) =>
    services.notifiers.test(idParam(request.params.id, 'notifier')),
  );
}
