import { notFound } from '../errors.js';
import type { Store } from '../store/index.js';
import { iso, pageOf, type Page, type PageOf } from '../store/pagination.js';

export interface CheckInEventView {
  id: string;
  check_in_type: string;
  kind: string | null;
  digest: string | null;
  timestamp: string | null;
  received_at: string | null;
  hostname: string | null;
  exit_code: number | null;
  output: string | null;
  /** Set when the client's timestamp was more than VIGIL_MAX_CLOCK_SKEW off and replaced by the receive time. */
  client_timestamp: string | null;
}

export interface IngestErrorView {
  id: string;
  identifier: string | null;
  code: string;
  message: string;
  line: number | null;
  received_at: string | null;
}

/** Reading back what the ingest path stored: events per monitor, ingest errors per app. */
export class CheckInHistory {
  constructor(private readonly store: Store) {}

  /** A monitor's events, newest first (by arrival). */
  async events(monitorId: number, page: Page): Promise<PageOf<CheckInEventView>> {
    const monitor = await this.store.db.selectFrom('monitors').select('id').where('id', '=', monitorId).executeTakeFirst();
    if (!monitor) throw notFound(`monitor ${monitorId}`);
    let query = this.store.db
      .selectFrom('check_in_events')
      .selectAll()
      .where('monitor_id', '=', monitorId)
      .orderBy('id', 'desc')
      .limit(page.limit + 1);
    if (page.before !== undefined) query = query.where('id', '<', page.before);
    return pageOf(await query.execute(), page, (row) => ({
      id: String(row.id),
      check_in_type: row.check_in_type,
      kind: row.kind,
      digest: row.digest,
      timestamp: iso(Number(row.timestamp) * 1000),
      received_at: iso(Number(row.received_at)),
      hostname: row.hostname,
      exit_code: row.exit_code,
      output: row.output,
      client_timestamp: row.client_timestamp === null ? null : iso(Number(row.client_timestamp) * 1000),
    }));
  }

  /** An app's ingest errors (unknown identifiers, rejected lines), newest first. */
  async ingestErrors(appId: number, page: Page): Promise<PageOf<IngestErrorView>> {
    const app = await this.store.db.selectFrom('apps').select('id').where('id', '=', appId).executeTakeFirst();
    if (!app) throw notFound(`app ${appId}`);
    let query = this.store.db
      .selectFrom('ingest_errors')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('id', 'desc')
      .limit(page.limit + 1);
    if (page.before !== undefined) query = query.where('id', '<', page.before);
    return pageOf(await query.execute(), page, (row) => ({
      id: String(row.id),
      identifier: row.identifier,
      code: row.code,
      message: row.message,
      line: row.line,
      received_at: iso(Number(row.received_at)),
    }));
  }
}
