import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../../errors.js';
import { formatLocal, nextTicks, parseSchedule } from '../../monitors/schedule.js';
import type { Services } from '../services.js';

const PreviewQuery = Type.Object({
  schedule: Type.String({ minLength: 1, maxLength: 256 }),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  count: Type.Optional(Type.String({ pattern: '^\\d{1,3}$', description: '1–100, default 5' })),
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO-8601 instant; default now' })),
});

/** `GET /schedule/preview`: the next ticks of a crontab in a timezone, DST-correct. */
export function scheduleRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { schedule: string; timezone?: string; count?: string; from?: string } }>(
    '/schedule/preview',
    { schema: { tags: ['monitors'], querystring: PreviewQuery } },
    async (request) => {
      const { schedule, timezone = 'UTC', count = '5', from } = request.query;
      const n = Number(count);
      if (n < 1 || n > 100) throw new VigilError('invalid_field', 'count: must be from 1 to 100', 'count');
      const start = from === undefined ? new Date(services.clock.now()) : new Date(from);
      if (Number.isNaN(start.getTime())) throw new VigilError('invalid_field', `from: not an ISO-8601 time: "${from}"`, 'from');
      const parsed = parseSchedule(schedule, timezone);
      return {
        schedule: parsed.expression,
        timezone: parsed.timezone,
        data: nextTicks(parsed, start, n).map((at) => ({ at: at.toISOString(), local: formatLocal(at, parsed.timezone) })),
      };
    },
  );
}
