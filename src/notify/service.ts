import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../clock.js';
import { VigilError, notFound } from '../errors.js';
import { validate } from '../monitors/schema.js';
import type { Store } from '../store/index.js';
import { iso } from '../store/pagination.js';
import { ChannelTypes, isChannelType, type ChannelRegistry, type ChannelType } from './channels/index.js';
import type { Channel, DeliveryOutcome, Notification } from './types.js';

export const NotifierCreateSchema = Type.Object(
  {
    type: Type.Union(ChannelTypes.map((t) => Type.Literal(t))),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    config: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export const NotifierPatchSchema = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), config: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  { additionalProperties: false },
);

export interface NotifierView {
  id: string;
  type: ChannelType;
  name: string;
  /** Secrets masked. */
  config: Record<string, unknown>;
  created_at: string | null;
  updated_at: string | null;
}

/** The one place a channel is picked by its type name. */
export function channelFor(registry: ChannelRegistry, type: string): Channel<unknown> {
  if (!isChannelType(type)) throw new VigilError('invalid_field', `type: unknown channel "${type}"`, 'type');
  return registry[type] as Channel<unknown>;
}

/** Notifiers: channels with their settings; secrets never leave through the API. */
export class NotifiersService {
  constructor(
    private readonly store: Store,
    private readonly registry: ChannelRegistry,
    private readonly clock: Clock,
    private readonly baseUrl: string,
  ) {}

  async create(input: unknown): Promise<NotifierView> {
    const body = validate(NotifierCreateSchema, input);
    const config = channelFor(this.registry, body.type).parseConfig(body.config);
    const now = this.clock.now();
    const row = await this.store.db
      .insertInto('notifiers')
      .values({ type: body.type, name: body.name.trim(), config: JSON.stringify(config), created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.view(row);
  }

  async list(): Promise<NotifierView[]> {
    return (await this.store.db.selectFrom('notifiers').selectAll().orderBy('id', 'desc').execute()).map((r) => this.view(r));
  }

  async get(id: number): Promise<NotifierView> {
    return this.view(await this.row(id));
  }

  async update(id: number, input: unknown): Promise<NotifierView> {
    const patch = validate(NotifierPatchSchema, input);
    const current = await this.row(id);
    const config = patch.config ? channelFor(this.registry, current.type).parseConfig(patch.config) : JSON.parse(current.config);
    const row = await this.store.db
      .updateTable('notifiers')
      .set({ name: patch.name?.trim() ?? current.name, config: JSON.stringify(config), updated_at: this.clock.now() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.view(row);
  }

  /** Deletes a notifier and takes it off every monitor that named it. */
  async delete(id: number): Promise<void> {
    await this.row(id);
    const named = JSON.stringify(String(id));
    await this.store.writeTransaction(async (trx) => {
      await trx.deleteFrom('notifiers').where('id', '=', id).execute();
      const monitors = await trx.selectFrom('monitors').select(['id', 'notifier_ids']).where('notifier_ids', 'like', `%${named}%`).execute();
      for (const monitor of monitors) {
        const ids = (JSON.parse(monitor.notifier_ids) as string[]).filter((n) => n !== String(id));
        await trx.updateTable('monitors').set({ notifier_ids: JSON.stringify(ids) }).where('id', '=', monitor.id).execute();
      }
    });
  }

  /** Sends a test notification now and reports what the channel answered. */
  async test(id: number): Promise<DeliveryOutcome & { delivery_id: string }> {
    const row = await this.row(id);
    const now = this.clock.now();
    const uid = randomUUID();
    const notification: Notification = {
      event: 'test',
      deliveryId: uid,
      incident: { id: '0', reason: 'missed', opened_at: iso(now)!, resolved_at: null },
      monitor: {
        id: '0',
        identifier: 'vigil-test',
        type: 'cron',
        status: 'missed',
        url: `${this.baseUrl}/`,
        schedule: '0 2 * * *',
        timezone: 'UTC',
        max_duration: 1800,
        last_success_at: null,
      },
      app: { id: '0', name: 'Vigil', environment: 'test' },
      occurrence: null,
    };
    const started = Date.now();
    const outcome = await channelFor(this.registry, row.type).send(JSON.parse(row.config), notification);
    const delivery = await this.store.db
      .insertInto('deliveries')
      .values({
        uid,
        notifier_id: id,
        incident_id: null,
        event: 'test',
        payload: JSON.stringify(notification),
        status: outcome.ok ? 'delivered' : 'failed',
        attempts: 1,
        next_attempt_at: now,
        claimed_until: null,
        created_at: now,
        delivered_at: outcome.ok ? now : null,
        last_error: outcome.ok ? null : outcome.detail,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.store.db
      .insertInto('delivery_attempts')
      .values({ delivery_id: delivery.id, attempted_at: now, ok: outcome.ok ? 1 : 0, status_code: outcome.status, detail: outcome.detail, duration_ms: Date.now() - started })
      .execute();
    return { ...outcome, delivery_id: uid };
  }

  /** Refuses notifier ids that do not exist (monitors reference them). */
  async assertExist(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const numeric = ids.map((id) => (/^\d{1,15}$/.test(id) ? Number(id) : -1));
    const found = new Set((await this.store.db.selectFrom('notifiers').select('id').where('id', 'in', numeric).execute()).map((r) => String(r.id)));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new VigilError('invalid_field', `notifier_ids: no notifier ${missing.join(', ')}`, 'notifier_ids');
  }

  private async row(id: number) {
    const row = await this.store.db.selectFrom('notifiers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`notifier ${id}`);
    return row;
  }

  private view(row: { id: number; type: string; name: string; config: string; created_at: number; updated_at: number }): NotifierView {
    return {
      id: String(row.id),
      type: row.type as ChannelType,
      name: row.name,
      config: channelFor(this.registry, row.type).redact(JSON.parse(row.config)),
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
    };
  }
}
