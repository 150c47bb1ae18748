import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { MonitorCreateSchema, MonitorPatchSchema, MonitorPutSchema } from '../../monitors/schema.js';
import { MonitorStatuses } from '../../monitors/service.js';
import { PageQuery, idParam, pageFrom } from '../params.js';
import type { Services } from '../services.js';

const AppParams = Type.Object({ app_id: Type.String() });
const MonitorParams = Type.Object({ id: Type.String() });
const ListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Type.Union(MonitorStatuses.map((s) => Type.Literal(s)))),
  tag: Type.Optional(Type.String({ maxLength: 64 })),
  q: Type.Optional(Type.String({ maxLength: 255 })),
});

type ListQuery = { limit?: string; cursor?: string; status?: string; tag?: string; q?: string };

/** Monitors, their events, pause and resume (SPEC §4). */
export function monitorRoutes(app: FastifyInstance, services: Services): void {
  const { monitors } = services;
  app.post<{ Params: { app_id: string } }>(
    '/apps/:app_id/monitors',
    { schema: { tags: ['monitors'], params: AppParams, body: MonitorCreateSchema } },
    async (request, reply) => reply.status(201).send(await monitors.create(idParam(request.params.app_id, 'app'), request.body)),
  );
  app.put<{ Params: { app_id: string; identifier: string } }>(
    '/apps/:app_id/monitors/by-identifier/:identifier',
    {
      schema: {
        tags: ['monitors'],
        params: Type.Object({ app_id: Type.String(), identifier: Type.String() }),
        body: MonitorPutSchema,
      },
    },
    async (request, reply) => {
      const result = await monitors.put(idParam(request.params.app_id, 'app'), request.params.identifier, request.body);
      return reply.status(result.created ? 201 : 200).send(result.monitor);
    },
  );
  app.get<{ Params: { app_id: string }; Querystring: ListQuery }>(
    '/apps/:app_id/monitors',
    { schema: { tags: ['monitors'], params: AppParams, querystring: ListQuery } },
    async (request) => {
      const { status, tag, q } = request.query;
      return monitors.list(idParam(request.params.app_id, 'app'), { status, tag, q }, pageFrom(request.query));
    },
  );
  app.get<{ Params: { id: string } }>('/monitors/:id', { schema: { tags: ['monitors'], params: MonitorParams } }, async (request) =>
    monitors.get(idParam(request.params.id, 'monitor')),
  );
  app.patch<{ Params: { id: string } }>(
    '/monitors/:id',
    { schema: { tags: ['monitors'], params: MonitorParams, body: MonitorPatchSchema } },
    async (request) => monitors.update(idParam(request.params.id, 'monitor'), request.body),
  );
  app.delete<{ Params: { id: string } }>('/monitors/:id', { schema: { tags: ['monitors'], params: MonitorParams } }, async (request, reply) => {
    await monitors.delete(idParam(request.params.id, 'monitor'));
    return reply.status(204).send();
  });
  app.post<{ Params: { id: string } }>('/monitors/:id/pause', { schema: { tags: ['monitors'], params: MonitorParams } }, async (request) =>
    monitors.setPaused(idParam(request.params.id, 'monitor'), true),
  );
  app.post<{ Params: { id: string } }>('/monitors/:id/resume', { schema: { tags: ['monitors'], params: MonitorParams } }, async (request) =>
    monitors.setPaused(idParam(request.params.id, 'monitor'), false),
  );
  app.get<{ Params: { id: string }; Querystring: { limit?: string; cursor?: string } }>(
    '/monitors/:id/events',
    { schema: { tags: ['monitors'], params: MonitorParams, querystring: Type.Object(PageQuery) } },
    async (request) => services.history.events(idParam(request.params.id, 'monitor'), pageFrom(request.query)),
  );
}
