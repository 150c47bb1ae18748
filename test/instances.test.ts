import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { Vigil } from '../src/server.js';
import { freshDatabase, ingest, storeAvailable } from './helpers.js';
import { eventually, sleep, startReceiver } from './receivers.js';

const SECRET = 'a-webhook-secret-of-some-length';

/** Two Vigil processes' worth of parts on one PostgreSQL database, as in a multi-instance deployment. */
describe.skipIf(!storeAvailable('postgres'))('several instances on one PostgreSQL database', () => {
  let a: Vigil;
  let b: Vigil;
  let urlA: string;
  let urlB: string;
  let drop: () => Promise<void>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    const database = await freshDatabase('postgres');
    drop = database.drop;
    const config = loadConfig({ VIGIL_DATABASE_URL: database.url, VIGIL_PORT: '0', VIGIL_LOG_LEVEL: 'silent', VIGIL_INGEST_TOLERANCE: '1' });
    a = await Vigil.create(config);
    urlA = `http://127.0.0.1:${(await a.start()).port}`;
    b = await Vigil.create(config);
    urlB = `http://127.0.0.1:${(await b.start()).port}`;
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await receiver.close();
    await drop();
  });

  it('a monitor created on one instance takes check-ins on the other within seconds; a rotated key stops working there too', async () => {
    const app = await a.services.apps.create({ name: 'Shared' });
    await a.services.monitors.create(Number(app.id), { identifier: 'beat', type: 'heartbeat', max_duration: 60 });
    await eventually(async () => expect((await ingest(urlB, `/check_ins/heartbeats?api_key=${app.push_api_key}&identifier=beat`)).body.accepted).toBe(1), 5000);
    await a.services.apps.rotateKey(Number(app.id));
    await eventually(async () => expect((await ingest(urlB, `/check_ins/heartbeats?api_key=${app.push_api_key}&identifier=beat`)).status).toBe(401), 5000);
  });

  it('a silence seen by both evaluators opens one incident and sends one notification', async () => {
    const app = await a.services.apps.create({ name: 'Alerting' });
    const notifier = await a.services.notifiers.create({ type: 'webhook', name: 'hook', config: { url: receiver.url, secret: SECRET } });
    await a.services.monitors.create(Number(app.id), { identifier: 'worker', type: 'heartbeat', max_duration: 1, notifier_ids: [notifier.id] });
    await eventually(async () => expect((await ingest(urlB, `/check_ins/heartbeats?api_key=${app.push_api_key}&identifier=worker`)).body.accepted).toBe(1), 5000);
    await ingest(urlA, `/check_ins/heartbeats?api_key=${app.push_api_key}&identifier=worker`);
    await eventually(() => expect(receiver.received).toHaveLength(1));
    // Both instances keep evaluating and delivering for a while: still exactly one.
    await sleep(3000);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers['vigil-event']).toBe('incident.opened');
    const incidents = await b.services.evaluation.incidents({}, { limit: 10, before: undefined });
    expect(incidents.data).toHaveLength(1);
  });
});
