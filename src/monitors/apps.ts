import { hashSecret, newSecret } from '../accounts/secrets.js';
import type { Clock } from '../clock.js';
import { VigilError, notFound } from '../errors.js';
import type { AppRow, Store } from '../store/index.js';
import { iso } from '../store/pagination.js';
import type { Catalog } from './catalog.js';
import { AppCreateSchema, AppPatchSchema, validate } from './schema.js';

export interface AppView {
  id: string;
  name: string;
  environment: string;
  created_at: string | null;
  updated_at: string | null;
}

const view = (row: AppRow): AppView => ({
  id: String(row.id),
  name: row.name,
  environment: row.environment,
  created_at: iso(row.created_at),
  updated_at: iso(row.updated_at),
});

/** Names are stored trimmed: one made of spaces only would be stored empty. */
function notBlank(fields: { name?: string | undefined; environment?: string | undefined }): void {
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value === 'string' && value.trim() === '') throw new VigilError('invalid_field', `${field}: must not be blank`, field);
  }
}

/** Apps and their push API keys (stored hashed, shown once). */
export class AppsService {
  constructor(
    private readonly store: Store,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /** Creates an app; the push key is in the result and nowhere else, ever. */
  async create(input: unknown): Promise<AppView & { push_api_key: string }> {
    const { name, environment = 'production' } = validate(AppCreateSchema, input);
    notBlank({ name, environment });
    await this.assertUnique(name.trim(), environment.trim(), undefined);
    const key = newSecret('vpk');
    const now = this.clock.now();
    const row = await this.store.db
      .insertInto('apps')
      .values({ name: name.trim(), environment: environment.trim(), push_key_hash: hashSecret(key), created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.catalog.setAppKey(row.id, row.push_key_hash);
    await this.catalog.changed(this.store);
    return { ...view(row), push_api_key: key };
  }

  async list(): Promise<AppView[]> {
    const rows = await this.store.db.selectFrom('apps').selectAll().orderBy('name').orderBy('environment').execute();
    return rows.map(view);
  }

  async get(id: number): Promise<AppView> {
    return view(await this.row(id));
  }

  async update(id: number, input: unknown): Promise<AppView> {
    const patch = validate(AppPatchSchema, input);
    notBlank(patch);
    const current = await this.row(id);
    const name = patch.name?.trim() ?? current.name;
    const environment = patch.environment?.trim() ?? current.environment;
    await this.assertUnique(name, environment, id);
    const row = await this.store.db
      .updateTable('apps')
      .set({ name, environment, updated_at: this.clock.now() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return view(row);
  }

  /** Deletes the app with its monitors, events and ingest errors; its key stops working at once. */
  async delete(id: number): Promise<void> {
    await this.row(id);
    this.catalog.removeApp(id);
    await this.store.db.deleteFrom('apps').where('id', '=', id).execute();
    await this.catalog.changed(this.store);
  }

  /** Replaces the push key; the old one stops working for the very next request. */
  async rotateKey(id: number): Promise<{ push_api_key: string }> {
    await this.row(id);
    const key = newSecret('vpk');
    await this.store.db
      .updateTable('apps')
      .set({ push_key_hash: hashSecret(key), updated_at: this.clock.now() })
      .where('id', '=', id)
      .execute();
    this.catalog.setAppKey(id, hashSecret(key));
    await this.catalog.changed(this.store);
    return { push_api_key: key };
  }

  private async row(id: number): Promise<AppRow> {
    const row = await this.store.db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`app ${id}`);
    return row;
  }

  private async assertUnique(name: string, environment: string, except: number | undefined): Promise<void> {
    let query = this.store.db
      .selectFrom('apps')
      .select('id')
      .where('name', '=', name)
      .where('environment', '=', environment);
    if (except !== undefined) query = query.where('id', '!=', except);
    if (await query.executeTakeFirst()) {
      throw new VigilError('conflict', `an app named "${name}" already exists in environment "${environment}"`, 'name');
    }
  }
}
