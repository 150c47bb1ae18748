import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Running } from './helpers.js';

// The preview does not touch the store: SQLite only.
describe('schedule preview and schedule fields over HTTP', () => {
  let vigil: Running;

  beforeAll(async () => {
    vigil = await startVigil();
  });
  afterAll(() => vigil.stop());

  const preview = (query: Record<string, string>) => vigil.api('GET', `/schedule/preview?${new URLSearchParams(query).toString()}`);

  describe('from', () => {
    it.each([
      ['a year before 1000', '0999-01-01T00:00:00Z', /^from: must be from 1000-01-01T00:00:00.000Z to 9999-01-01T00:00:00.000Z, got "0999-01-01T00:00:00Z"$/],
      ['an instant past the range', '9999-01-01T00:00:01Z', /^from: must be from 1000-01-01/],
      ['an offset that moves it before the range', '1000-01-01T00:30:00+01:00', /^from: must be from 1000-01-01/],
      ['an expanded year', '+010000-01-01T00:00:00Z', /^from: must be an ISO-8601 date-time with Z or a UTC offset/],
      ['a bare number (Date reads "1" as 2001)', '1', /^from: must be an ISO-8601 date-time .*, got "1"$/],
      ['a date without a time', '2026-01-01', /^from: must be an ISO-8601 date-time/],
      ['a date-time without Z or offset (which zone?)', '2026-01-01T00:00:00', /^from: must be an ISO-8601 date-time/],
      ['an unencoded + (read as a space)', '2026-01-01T00:00:00 02:00', /^from: must be an ISO-8601 date-time/],
      ['a date that does not exist (Date rolls it into March)', '2026-02-30T00:00:00Z', /^from: not a real date and time/],
      ['hour 24', '2026-01-01T24:00:00Z', /^from: not a real date and time/],
      ['an offset of 24 hours', '2026-01-01T00:00:00+24:00', /^from: not a real date and time/],
      ['words', 'tomorrow', /^from: must be an ISO-8601 date-time/],
      ['an empty value', '', /^from: must be an ISO-8601 date-time/],
    ])('refuses %s with 400 invalid_field naming from', async (_name, from, message) => {
      const res = await preview({ schedule: '@daily', from });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'invalid_field', message: expect.stringMatching(message) } });
    });

    it('answers the 500s of before with 400 for the exact queries reported', async () => {
      for (const query of ['schedule=@daily&from=0999-01-01T00:00:00Z', 'schedule=@daily&from=%2B010000-01-01T00:00:00Z', 'schedule=@daily&from=+010000-01-01T00:00:00Z']) {
        const res = await vigil.api('GET', `/schedule/preview?${query}`);
        expect([query, res.status, res.body.error.code]).toEqual([query, 400, 'invalid_field']);
        expect(res.body.error.message.startsWith('from: ')).toBe(true);
      }
    });

    it('takes a UTC offset, fractions, lower-case t/z and the ends of the range', async () => {
      const offset = await preview({ schedule: '0 * * * *', from: '2026-03-29T03:00:00+02:00', count: '1' });
      expect(offset.status).toBe(200);
      expect(offset.body.data).toEqual([{ at: '2026-03-29T02:00:00.000Z', local: '2026-03-29T02:00:00+00:00' }]);
      const west = await preview({ schedule: '0 * * * *', from: '2026-03-28T20:30:00.5-05:00', count: '1' });
      expect(west.body.data[0].at).toBe('2026-03-29T02:00:00.000Z');
      const lower = await preview({ schedule: '0 * * * *', from: '2026-03-29t01:59z', count: '1' });
      expect(lower.body.data[0].at).toBe('2026-03-29T02:00:00.000Z');
      const first = await preview({ schedule: '@yearly', from: '1000-01-01T00:00:00Z', count: '1' });
      expect(first.body.data).toEqual([{ at: '1001-01-01T00:00:00.000Z', local: '1001-01-01T00:00:00+00:00' }]);
      const last = await preview({ schedule: '@daily', from: '9999-01-01T00:00:00Z' });
      expect([last.status, last.body.data]).toEqual([200, []]);
    });

    it('returns the ticks that exist when the schedule runs past year 9999', async () => {
      const res = await vigil.api('GET', '/schedule/preview?schedule=@yearly&count=3&from=9998-06-01T00:00:00Z');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ schedule: '@yearly', timezone: 'UTC', data: [{ at: '9999-01-01T00:00:00.000Z', local: '9999-01-01T00:00:00+00:00' }] });
    });
  });

  describe('schedule', () => {
    it.each([
      ['* * 32 * *', 'schedule: day-of-month 32 is out of range 1–31'],
      ['* * 0 * *', 'schedule: day-of-month 0 is out of range 1–31'],
      ['* * * 13 *', 'schedule: month 13 is out of range 1–12'],
      ['0 0 * * MON#6', 'schedule: day-of-week nth weekday 6 in "MON#6" is out of range 1–5 (or L for the last)'],
    ])('refuses %s quoting the value written and the allowed range', async (schedule, message) => {
      const res = await preview({ schedule });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'invalid_schedule', message } });
    });

    it('previews a rare schedule whose ticks are decades apart', async () => {
      // 29 February that is a Sunday (day-of-week starting with * means AND); 2100 is no leap year.
      const res = await preview({ schedule: '0 0 29 2 */7', from: '2026-01-01T00:00:00Z', count: '4' });
      expect(res.status).toBe(200);
      expect(res.body.data.map((t: { at: string }) => t.at)).toEqual(['2032-02-29T00:00:00.000Z', '2060-02-29T00:00:00.000Z', '2088-02-29T00:00:00.000Z', '2128-02-29T00:00:00.000Z']);
    });
  });

  describe('timezone names are kept as given', () => {
    it.each([
      ['Europe/Kyiv', '2026-07-01T09:00:00+03:00'],
      ['Asia/Kolkata', '2026-07-01T09:00:00+05:30'],
      ['US/Eastern', '2026-07-01T09:00:00-04:00'],
      ['CET', '2026-07-01T09:00:00+02:00'],
    ])('preview of %s', async (timezone, local) => {
      const res = await preview({ schedule: '0 9 * * *', timezone, from: '2026-06-30T18:00:00Z', count: '1' });
      expect(res.status).toBe(200);
      expect(res.body.timezone).toBe(timezone);
      expect(res.body.data[0].local).toBe(local);
    });

    it('a monitor stores the name it was given: PUT twice shows no change (config as code)', async () => {
      const app = await vigil.createApp('Zones');
      const path = `/apps/${app.id}/monitors/by-identifier/kyiv-report`;
      const body = { type: 'cron', schedule: '0 9 * * *', timezone: ' Europe/Kyiv ' };
      const created = await vigil.api('PUT', path, body);
      expect([created.status, created.body.timezone]).toEqual([201, 'Europe/Kyiv']);
      const again = await vigil.api('PUT', path, body);
      expect(again.body.timezone).toBe('Europe/Kyiv');
      const fetched = await vigil.api('GET', `/monitors/${created.body.id}`);
      expect(fetched.body.timezone).toBe('Europe/Kyiv');
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Kyiv', hour: '2-digit', minute: '2-digit' }).format(new Date(fetched.body.next_expected_at));
      expect(local).toBe('09:00');
    });
  });

  it('a monitor with a rare schedule has a next_expected_at years ahead', async () => {
    const app = await vigil.createApp('Rare');
    const created = await vigil.api('POST', `/apps/${app.id}/monitors`, { identifier: 'leap-sunday', type: 'cron', schedule: '0 0 29 2 */7' });
    expect(created.status).toBe(201);
    const next: string = created.body.next_expected_at;
    expect(next).toMatch(/^\d{4}-02-29T00:00:00\.000Z$/);
    expect(new Date(next).getUTCDay()).toBe(0);
    expect(Date.parse(next)).toBeGreaterThan(Date.now());
    const listed = await vigil.api('GET', `/apps/${app.id}/monitors`);
    expect(listed.body.data[0].next_expected_at).toBe(next);
  });
});
