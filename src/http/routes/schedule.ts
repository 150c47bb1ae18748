import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../../errors.js';
import { MAX_INSTANT, MIN_INSTANT, formatLocal, nextTicks, parseSchedule } from '../../monitors/schedule.js';
import type { Services } from '../services.js';

const PreviewQuery = Type.Object({
  schedule: Type.String({ minLength: 1, maxLength: 256 }),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  count: Type.Optional(Type.String({ pattern: '^\\d{1,3}$', description: '1–100, default 5' })),
  from: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'ISO-8601 date-time with Z or a UTC offset (e.g. 2026-03-29T01:00:00Z), years 1000–9999; default now',
    }),
  ),
});

/** YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z or ±HH:MM (RFC 3339, seconds optional). */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/i;
const FROM_FORMAT = 'an ISO-8601 date-time with Z or a UTC offset, e.g. 2026-03-29T01:00:00Z or 2026-03-29T03:00:00+02:00 (+ sent as %2B)';

/**
 * `from` of the preview. Only full date-times with a zone are taken: `Date` would also read "1" as
 * 2001 and a bare date-time in the server's zone, and overflow 30 February into March.
 */
function parseFrom(value: string): Date {
  const refuse = (problem: string): VigilError => new VigilError('invalid_field', `from: ${problem}, got ${JSON.stringify(value)}`, 'from');
  const match = DATE_TIME.exec(value);
  if (!match) throw refuse(`must be ${FROM_FORMAT}`);
  const part = (i: number): number => Number(match[i] ?? 0);
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const [offsetHours, offsetMinutes] = [part(9), part(10)];
  const daysInMonth = new Date(new Date(0).setUTCFullYear(year, month, 0)).getUTCDate();
  const valid = month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
  if (!valid) throw refuse(`not a real date and time: must be ${FROM_FORMAT}`);
  const fraction = Math.floor(Number(`0.${match[7] ?? '0'}`) * 1000);
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const t = new Date(0).setUTCFullYear(year, month - 1, day) + ((hour * 60 + minute) * 60 + second) * 1000 + fraction - offset;
  if (t < MIN_INSTANT || t > MAX_INSTANT) {
    throw refuse(`must be from ${new Date(MIN_INSTANT).toISOString()} to ${new Date(MAX_INSTANT).toISOString()}`);
  }
  return new Date(t);
}

/** `GET /schedule/preview`: the next ticks of a crontab in a timezone, DST-correct. */
export function scheduleRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { schedule: string; timezone?: string; count?: string; from?: string } }>(
    '/schedule/preview',
    { schema: { tags: ['monitors'], querystring: PreviewQuery } },
    async (request) => {
      const { schedule, timezone = 'UTC', count = '5', from } = request.query;
      const n = Number(count);
      if (n < 1 || n > 100) throw new VigilError('invalid_field', 'count: must be from 1 to 100', 'count');
      const start = from === undefined ? new Date(services.clock.now()) : parseFrom(from);
      const parsed = parseSchedule(schedule, timezone);
      return {
        schedule: parsed.expression,
        timezone: parsed.timezone,
        // Fewer than `count` ticks when the schedule runs past the last instant Vigil represents.
        data: nextTicks(parsed, start, n).map((at) => ({ at: at.toISOString(), local: formatLocal(at, parsed.timezone) })),
      };
    },
  );
}
