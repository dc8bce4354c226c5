import { eventually, startApp, type AppProcess } from './support/app-process.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';

/**
 * `npm start` as a new user runs it: nothing configured but where Redis is and which ports are
 * free. The embedded simulated account back-fills a day and plays its demo anomalies; /health must
 * answer within 60 s and the first finding must be served by GET /v1/findings within 5 minutes.
 */
describe('npm start (the embedded default)', () => {
  let redis: ThrowawayRedis;
  let app: AppProcess;
  const key = 'e2e-start-admin-key-0123456789';

  beforeAll(async () => {
    redis = await startRedis();
    app = startApp('trailsight', {
      REDIS_URL: redis.url,
      PORT: String(await freePort()),
      SIMULATOR_PORT: String(await freePort()),
      API_KEYS: key,
    });
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('is healthy within 60 seconds and serves the Swagger console', async () => {
    const started = Date.now();
    await app.healthy(60_000);
    expect(Date.now() - started).toBeLessThan(60_000);
    const docs = await fetch(`http://127.0.0.1:${app.port}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  }, 70_000);

  it(
    'shows its first finding at GET /v1/findings within 5 minutes, with AWS-layout records',
    async () => {
      const started = Date.now();
      const headers = { authorization: `Bearer ${key}` };
      const first = await eventually(
        'a first finding',
        async () => {
          const response = await fetch(`http://127.0.0.1:${app.port}/v1/findings?limit=10`, { headers });
          if (response.status !== 200) return undefined;
          const page = (await response.json()) as { items: Array<{ id: string }> };
          return page.items[0];
        },
        5 * 60_000,
        2_000,
      );
      expect(Date.now() - started).toBeLessThan(5 * 60_000);
      const records = await fetch(`http://127.0.0.1:${app.port}/v1/findings/${first.id}/records`, { headers });
      expect(records.status).toBe(200);
      const body = await records.json();
      expect(JSON.stringify(body)).toMatch(/"eventType":"AwsCloudTrailInsight"/);
      // Without the key, nothing.
      expect((await fetch(`http://127.0.0.1:${app.port}/v1/findings`)).status).toBe(401);
    },
    6 * 60_000,
  );
});
