import { Redis } from 'ioredis';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS } from '@trailsight/domain';
import { eventually, startApp, type AppProcess } from './support/app-process.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Suppressions and maintenance windows end to end: poller, detector and api as separate
 * processes against the simulated account. A rule and a window are created first; then three
 * write APIs spike in the same minute: the one the rule matches and the one the window covers are
 * stored with `suppressedBy` and delivered to nobody, the third is delivered as usual.
 */
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const ADMIN_KEY = 'e2e-suppressions-admin-key-0123456';
const SECRET = 'suppressions-subscriber-secret-01';

interface Delivery {
  event: string;
  body: { detail: { sharedEventID?: string; insightDetails?: Record<string, unknown> } };
}

describe('suppressions end to end: muted spikes are stored but not delivered', () => {
  let redis: ThrowawayRedis;
  let client: Redis;
  let simulator: Simulator;
  let simulatorUrl: string;
  let receiver: WebhookReceiver;
  let api: AppProcess;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    simulator = createSimulator({
      seed: 5,
      accounts: [ACCOUNT],
      regions: [REGION],
      eventsPerMinute: 600,
      // The processes read the wall clock: the volume must not depend on the hour CI runs.
      rhythm: 'steady',
      rateLimit: 25,
    });
    simulatorUrl = (await simulator.server.start(0)).url;
    receiver = await startWebhookReceiver({ secret: SECRET });
    const env = async (): Promise<Record<string, string>> => ({
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      API_KEYS: ADMIN_KEY,
      LOG_LEVEL: 'log',
      CLOUDTRAIL_SOURCE: 'simulator',
      CLOUDTRAIL_ENDPOINT: simulatorUrl,
      AWS_ACCOUNTS: ACCOUNT,
      AWS_REGIONS: REGION,
      LOOKUP_EVENTS_RATE: '25',
      POLL_INTERVAL_SECONDS: '2',
      POLL_OVERLAP_MINUTES: '2',
      BACKFILL_DAYS: String(2 / 24),
      EVALUATION_INTERVAL_SECONDS: '5',
      EVALUATION_LATENESS_SECONDS: '5',
      DETECTOR_END_AFTER_MINUTES: '2',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_BACKOFF_MS: '500',
    });
    api = startApp('api', await env());
    apps.push(api, startApp('poller', await env()), startApp('detector', await env()));
    await Promise.all(apps.map((app) => app.healthy()));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await receiver?.close();
    await client?.quit();
    await simulator?.server.stop();
    await redis?.stop();
  });

  function withAppLogs(error: Error): never {
    const tail = (app: AppProcess) => `--- ${app.name}, last lines:\n${app.output().split('\n').slice(-30).join('\n')}`;
    throw new Error(`${error.message}\n${apps.map(tail).join('\n')}`);
  }

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`http://127.0.0.1:${api.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // Bodies are checked field by field below.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, body: (await response.json()) as any };
  }

  it(
    'mutes the spike a rule matches and the one a window covers, and delivers the other',
    async () => {
      const now = Date.now();
      const [muted, loud, maintained] = simulator.generator
        .apis()
        .filter((api) => !api.readOnly)
        .map((api) => ({
          ...api,
          rate: simulator.generator.expectedCalls(
            { accountId: ACCOUNT, region: REGION },
            api.eventSource,
            api.eventName,
            now,
          ),
        }))
        .sort((a, b) => b.rate - a.rate);

      expect((await call('POST', '/v1/webhooks', { url: receiver.url, secret: SECRET })).status).toBe(201);
      const rule = await call('POST', '/v1/suppressions', {
        match: {
          eventSource: muted.eventSource,
          eventName: muted.eventName,
          direction: 'spike',
          // The simulator's spikes come from one identity: the top contributor, whatever its ARN.
          userIdentityArn: 'arn:aws:*',
        },
        reason: 'known burst',
      });
      expect(rule.status).toBe(201);
      const window = await call('POST', '/v1/maintenance-windows', {
        match: { eventSource: maintained.eventSource, eventName: maintained.eventName },
        reason: 'planned work',
        from: new Date(now).toISOString(),
        to: new Date(now + 60 * MINUTE_MS).toISOString(),
      });
      expect(window.status).toBe(201);

      const keys = new KeySpace('ts');
      const cursor = async () =>
        Number(await client.hget(keys.evaluation({ accountId: ACCOUNT, region: REGION }), 'cursor'));
      await eventually(
        'the evaluator to catch up with the back-filled history',
        async () => ((await cursor()) > Date.now() - 3 * MINUTE_MS ? true : undefined),
        240_000,
        1_000,
      ).catch(withAppLogs);

      let startMs = 0;
      for (const target of [muted, loud, maintained]) {
        const anomaly = await fetch(`${simulatorUrl}/anomalies`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            kind: 'spike',
            eventSource: target.eventSource,
            eventName: target.eventName,
            factor: 12,
            minutes: 3,
          }),
        });
        expect(anomaly.status).toBe(201);
        startMs = Date.parse(((await anomaly.json()) as { startTime: string }).startTime);
      }

      const about = (eventName: string) => (r: Delivery) =>
        r.event === 'insight.start' && r.body.detail.insightDetails?.eventName === eventName;
      await receiver
        .waitFor('insight.start', (requests) => requests.some(about(loud.eventName)), 4 * MINUTE_MS)
        .catch(withAppLogs);

      // Both muted spikes are stored, each naming what muted it, and listed only when asked.
      const mutedIds = await eventually(
        'both muted findings to be stored',
        async () => {
          const page = await call('GET', '/v1/findings?suppressed=only&insightType=ApiCallRateInsight');
          const items = page.body.items as { id: string; eventName: string; suppressedBy: string[] }[];
          const byRule = items.find((f) => f.eventName === muted.eventName);
          const byWindow = items.find((f) => f.eventName === maintained.eventName);
          return byRule && byWindow ? { byRule, byWindow } : undefined;
        },
        4 * MINUTE_MS,
        1_000,
      ).catch(withAppLogs);
      expect(mutedIds.byRule.suppressedBy).toEqual([rule.body.id]);
      expect(mutedIds.byWindow.suppressedBy).toEqual([window.body.id]);
      const listed = (await call('GET', '/v1/findings?limit=500')).body.items as { id: string }[];
      expect(listed.map((f) => f.id)).not.toContain(mutedIds.byRule.id);
      expect(listed.map((f) => f.id)).not.toContain(mutedIds.byWindow.id);

      // Every notification of the spikes' first minutes was decided once the evaluator passed them.
      await eventually(
        'the evaluator to pass the spikes',
        async () => ((await cursor()) > startMs + 3 * MINUTE_MS ? true : undefined),
        4 * MINUTE_MS,
        1_000,
      ).catch(withAppLogs);
      const loudStart = receiver.requests.find(about(loud.eventName));
      expect(loudStart).toBeDefined();
      const sharedIds = new Set(receiver.requests.map((r: Delivery) => r.body.detail.sharedEventID));
      expect(sharedIds.has(mutedIds.byRule.id)).toBe(false);
      expect(sharedIds.has(mutedIds.byWindow.id)).toBe(false);
      expect(receiver.requests.some(about(muted.eventName))).toBe(false);
      expect(receiver.requests.some(about(maintained.eventName))).toBe(false);
    },
    14 * MINUTE_MS,
  );
});
