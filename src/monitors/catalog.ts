import { hashSecret } from '../accounts/secrets.js';
import type { Store } from '../store/index.js';

/** Push keys remembered unhashed (see `appForKey`); past this many the memory starts over. */
const KEY_CACHE_SIZE = 1024;

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
  private appsByKeyHash = new Map<string, number>();
  private keyHashByApp = new Map<number, string>();
  private monitorsByApp = new Map<number, Map<string, CatalogMonitor>>();
  /** Counts changes made to this view, so a load that raced one can tell. */
  private changes = 0;
  /** Valid push keys as presented, to their app: a SHA-256 per check-in is a few % of ingest. */
  private readonly appsByKey = new Map<string, number>();

  /** The `catalog_version` this view was loaded at. */
  private version = -1;

  /**
   * Loads every app key and monitor into fresh maps, then swaps them in at once: check-ins
   * keep being routed by the old view meanwhile. A change made through this process during
   * the load (already in the database) makes it load again, so it is never undone.
   */
  async load(store: Store): Promise<void> {
    for (;;) {
      const changes = this.changes;
      const version = await readVersion(store);
      const apps = await store.db.selectFrom('apps').select(['id', 'push_key_hash']).execute();
      const monitors = await store.db.selectFrom('monitors').select(['id', 'app_id', 'identifier', 'type']).execute();
      if (this.changes !== changes) continue;
      this.version = version;
      this.appsByKeyHash = new Map(apps.map((a) => [a.push_key_hash, a.id]));
      this.keyHashByApp = new Map(apps.map((a) => [a.id, a.push_key_hash]));
      this.monitorsByApp = new Map();
      this.appsByKey.clear();
      for (const m of monitors) this.monitorsOf(m.app_id).set(m.identifier, { id: m.id, appId: m.app_id, type: m.type as MonitorType });
      return;
    }
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

  /**
   * The app id a push key belongs to. Keys seen recently are remembered as presented
   * (only valid ones, at most KEY_CACHE_SIZE); any change to an app's key forgets them all.
   */
  appForKey(key: string): number | undefined {
    const known = this.appsByKey.get(key);
    if (known !== undefined) return known;
    const appId = this.appsByKeyHash.get(hashSecret(key));
    if (appId !== undefined) {
      if (this.appsByKey.size >= KEY_CACHE_SIZE) this.appsByKey.clear();
      this.appsByKey.set(key, appId);
    }
    return appId;
  }

  monitor(appId: number, identifier: string): CatalogMonitor | undefined {
    return this.monitorsByApp.get(appId)?.get(identifier);
  }

  setAppKey(appId: number, keyHash: string): void {
    this.changes += 1;
    this.appsByKey.clear();
    const previous = this.keyHashByApp.get(appId);
    if (previous !== undefined) this.appsByKeyHash.delete(previous);
    this.appsByKeyHash.set(keyHash, appId);
    this.keyHashByApp.set(appId, keyHash);
  }

  removeApp(appId: number): void {
    this.changes += 1;
    this.appsByKey.clear();
    const keyHash = this.keyHashByApp.get(appId);
    if (keyHash !== undefined) this.appsByKeyHash.delete(keyHash);
    this.keyHashByApp.delete(appId);
    this.monitorsByApp.delete(appId);
  }

  putMonitor(appId: number, identifier: string, monitor: CatalogMonitor): void {
    this.changes += 1;
    this.monitorsOf(appId).set(identifier, monitor);
  }

  private monitorsOf(appId: number): Map<string, CatalogMonitor> {
    let monitors = this.monitorsByApp.get(appId);
    if (!monitors) this.monitorsByApp.set(appId, (monitors = new Map()));
    return monitors;
  }

  removeMonitor(appId: number, identifier: string): void {
    this.changes += 1;
    this.monitorsByApp.get(appId)?.delete(identifier);
  }
}

async function readVersion(store: Store): Promise<number> {
  const row = await store.db.selectFrom('catalog_version').select('version').where('id', '=', 1).executeTakeFirst();
  return Number(row?.version ?? 0);
}

