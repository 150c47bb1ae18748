import type { Store } from '../store/index.js';

export interface CatalogMonitor {
  readonly id: number;
  readonly appId: number;
  readonly type: MonitorType;
}

export const MonitorTypes = ['cron', 'heartbeat'] as const;
export type MonitorType = (typeof MonitorTypes)[number];

/**
 * The ingest path's in-memory view of push keys and monitors, so a check-in costs no
 * database round trip to authenticate and route. Every write through the apps and
 * monitors services updates it in the same step, so a rotated key or a deleted monitor
 * takes effect for the very next request.
 */
export class Catalog {
  private readonly appsByKeyHash = new Map<string, number>();
  private readonly keyHashByApp = new Map<number, string>();
  private readonly monitorsByApp = new Map<number, Map<string, CatalogMonitor>>();

  /** The `catalog_version` this view was loaded at. */
  private version = -1;

  /** Loads every app key and monitor. */
  async load(store: Store): Promise<void> {
    this.version = await readVersion(store);
    this.appsByKeyHash.clear();
    this.keyHashByApp.clear();
    this.monitorsByApp.clear();
    for (const app of await store.db.selectFrom('apps').select(['id', 'push_key_hash']).execute()) {
      this.setAppKey(app.id, app.push_key_hash);
    }
    const monitors = await store.db.selectFrom('monitors').select(['id', 'app_id', 'identifier', 'type']).execute();
    for (const m of monitors) this.putMonitor(m.app_id, m.identifier, { id: m.id, appId: m.app_id, type: m.type as MonitorType });
  }

  /** Reloads when another process (CLI, another instance) changed apps or monitors. */
  async refresh(store: Store): Promise<boolean> {
    if ((await readVersion(store)) === this.version) return false;
    await this.load(store);
    return true;
  }

  /**
   * Records in the database that apps or monitors changed (call after each such write,
   * having updated this view). Other processes reload; this one only does if someone
   * else changed something in between.
   */
  async changed(store: Store): Promise<void> {
    const row = await store.db
      .updateTable('catalog_version')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', '=', 1)
      .returning('version')
      .executeTakeFirst();
    const version = Number(row?.version ?? 0);
    if (version === this.version + 1) this.version = version;
  }

  /** The app id a hashed push key belongs to. */
  appForKeyHash(keyHash: string): number | undefined {
    return this.appsByKeyHash.get(keyHash);
  }

  monitor(appId: number, identifier: string): CatalogMonitor | undefined {
    return this.monitorsByApp.get(appId)?.get(identifier);
  }

  setAppKey(appId: number, keyHash: string): void {
    const previous = this.keyHashByApp.get(appId);
    if (previous !== undefined) this.appsByKeyHash.delete(previous);
    this.appsByKeyHash.set(keyHash, appId);
    this.keyHashByApp.set(appId, keyHash);
  }

  removeApp(appId: number): void {
    const keyHash = this.keyHashByApp.get(appId);
    if (keyHash !== undefined) this.appsByKeyHash.delete(keyHash);
    this.keyHashByApp.delete(appId);
    this.monitorsByApp.delete(appId);
  }

  putMonitor(appId: number, identifier: string, monitor: CatalogMonitor): void {
    let monitors = this.monitorsByApp.get(appId);
    if (!monitors) this.monitorsByApp.set(appId, (monitors = new Map()));
    monitors.set(identifier, monitor);
  }

  removeMonitor(appId: number, identifier: string): void {
    this.monitorsByApp.get(appId)?.delete(identifier);
  }
}

async function readVersion(store: Store): Promise<number> {
  const row = await store.db.selectFrom('catalog_version').select('version').where('id', '=', 1).executeTakeFirst();
  return Number(row?.version ?? 0);
}

