import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS } from '@trailsight/domain';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { eventually, startApp, type AppProcess } from './support/app-process.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';
import { startVendorReceiver, type VendorReceiver } from './support/vendor-receivers.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Slack, Teams and PagerDuty destinations and the catch-up rule against the simulated account,
 * with poller, detector and api as separate processes. Four hours of history are back-filled;
 * a spike 100 minutes ago is in it. That old spike is stored and shown but delivered to no one
 * (catch-up is not an incident). Then POST /anomalies spikes the same API live: PagerDuty gets
 * `trigger` then `resolve` with one dedup_key, Slack and Teams one valid message each, every
 * request checked against the vendor's documented format by the receivers.
 */
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const ADMIN_KEY = 'e2e-destinations-admin-key-012345';
const ROUTING_KEY = 'E2e0123456789abcdef0123456789abc';
const PUBLIC_URL = 'https://trailsight.example.com';

describe('destinations end to end: Slack, Teams and PagerDuty; catch-up is not an incident', () => {
  let redis: ThrowawayRedis;
  let client: Redis;
  let simulator: Simulator;
  let simulatorUrl: string;
  let slack: VendorReceiver;
  let teams: VendorReceiver;
  let pagerduty: VendorReceiver;
  let webhook: WebhookReceiver;
  let api: AppProcess;
  const apps: AppProcess[] = [];
  let target: { eventSource: string; eventName: string };
  let oldSpikeStart: number;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    simulator = createSimulator({
      seed: 5,
      accounts: [ACCOUNT],
      regions: [REGION],
      eventsPerMinute: 600,
      rhythm: 'steady',
      rateLimit: 40,
    });
    const now = Date.now();
    const [busiest] = simulator.generator
      .apis()
      .filter((a) => !a.readOnly)
      .map((a) => ({
        eventSource: a.eventSource,
        eventName: a.eventName,
        rate: simulator.generator.expectedCalls(
          { accountId: ACCOUNT, region: REGION },
          a.eventSource,
          a.eventName,
          now,
        ),
      }))
      .sort((a, b) => b.rate - a.rate);
    target = { eventSource: busiest.eventSource, eventName: busiest.eventName };
    oldSpikeStart = Math.floor(now / MINUTE_MS) * MINUTE_MS - 100 * MINUTE_MS;
    // Nothing has been served yet: the back-filled history may still get an anomaly.
    simulator.generator.injectAnomaly({ kind: 'spike', ...target, factor: 12, minutes: 4, startMinute: oldSpikeStart });
    simulatorUrl = (await simulator.server.start(0)).url;
    [slack, teams, pagerduty] = await Promise.all([
      startVendorReceiver('slack'),
      startVendorReceiver('teams'),
      startVendorReceiver('pagerduty'),
    ]);
    webhook = await startWebhookReceiver({ secret: 'destinations-e2e-secret-0123' });
    const env = async (): Promise<Record<string, string>> => ({
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      API_KEYS: ADMIN_KEY,
      LOG_LEVEL: 'log',
      CLOUDTRAIL_SOURCE: 'simulator',
      CLOUDTRAIL_ENDPOINT: simulatorUrl,
      AWS_ACCOUNTS: ACCOUNT,
      AWS_REGIONS: REGION,
      LOOKUP_EVENTS_RATE: '40',
      POLL_INTERVAL_SECONDS: '2',
      POLL_OVERLAP_MINUTES: '2',
      BACKFILL_DAYS: String(4 / 24),
      EVALUATION_INTERVAL_SECONDS: '5',
      EVALUATION_LATENESS_SECONDS: '5',
      DETECTOR_END_AFTER_MINUTES: '2',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_BACKOFF_MS: '500',
      WEBHOOK_MAX_INSIGHT_AGE_MINUTES: '60',
      SECRETS_KEY: Buffer.alloc(32, 9).toString('base64'),
      PUBLIC_URL,
    });
    // The api first: the subscriptions exist before the history is read, so only the catch-up rule keeps it quiet.
    api = startApp('api', await env());
    await api.healthy();
    const filter = { eventSource: [target.eventSource], insightType: ['ApiCallRateInsight'] };
    for (const body of [
      { type: 'slack', url: slack.url, events: ['insight.start'], filter },
      { type: 'teams', url: teams.url, events: ['insight.start'], filter },
      { type: 'pagerduty', url: pagerduty.url, routingKey: ROUTING_KEY, filter },
      { url: webhook.url, secret: 'destinations-e2e-secret-0123', filter },
    ]) {
      const created = await call('POST', '/v1/webhooks', body);
      expect(created.status).toBe(201);
    }
    apps.push(startApp('poller', await env()), startApp('detector', await env()));
    await Promise.all(apps.map((app) => app.healthy()));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api, ...apps].filter(Boolean).map((app) => app.stop()));
    await Promise.all([slack, teams, pagerduty, webhook].filter(Boolean).map((r) => r.close()));
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
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, body: (await response.json()) as any };
  }

  it(
    'stores the back-filled spike without paging; pages the live one: PagerDuty trigger then resolve, one Slack and one Teams message',
    async () => {
      const keys = new KeySpace('ts');
      await eventually(
        'the evaluator to catch up with the back-filled history',
        async () => {
          const cursor = Number(await client.hget(keys.evaluation({ accountId: ACCOUNT, region: REGION }), 'cursor'));
          return cursor > Date.now() - 3 * MINUTE_MS ? true : undefined;
        },
        360_000,
        1_000,
      ).catch(withAppLogs);

      // The old spike is a finding (stored, shown) ...
      const listed = await call('GET', `/v1/findings?eventName=${target.eventName}&limit=50`);
      expect(listed.status).toBe(200);
      const old = (listed.body.items as Array<{ id: string; startTime: string }>).find(
        (f) => Math.abs(Date.parse(f.startTime) - oldSpikeStart) <= 2 * MINUTE_MS,
      );
      expect(old).toBeDefined();
      // ... and nobody heard of it.
      expect(webhook.requests).toHaveLength(0);
      expect(pagerduty.requests).toHaveLength(0);
      expect(slack.requests).toHaveLength(0);
      expect(teams.requests).toHaveLength(0);

      const anomaly = await fetch(`${simulatorUrl}/anomalies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'spike', ...target, factor: 12, minutes: 3 }),
      });
      expect(anomaly.status).toBe(201);

      const [trigger] = await pagerduty
        .waitFor('a trigger', (r) => r.some((q) => q.body.event_action === 'trigger'), 4 * MINUTE_MS)
        .catch(withAppLogs);
      const dedupKey = trigger.body.dedup_key as string;
      await pagerduty
        .waitFor('its resolve', (r) => r.some((q) => q.body.event_action === 'resolve'), 8 * MINUTE_MS)
        .catch(withAppLogs);
      expect(pagerduty.requests.map((r) => [r.body.event_action, r.body.dedup_key, r.problems])).toEqual([
        ['trigger', dedupKey, []],
        ['resolve', dedupKey, []],
      ]);
      expect(dedupKey).not.toBe(old!.id);

      // The dedup_key is the finding's sharedEventID; Slack and Teams got one valid message each about it.
      const finding = await call('GET', `/v1/findings/${dedupKey}`);
      expect(finding.status).toBe(200);
      expect(finding.body).toMatchObject({ eventName: target.eventName, direction: 'spike' });
      for (const receiver of [slack, teams]) {
        expect(receiver.requests).toHaveLength(1);
        expect(receiver.requests[0].problems).toEqual([]);
        expect(receiver.requests[0].rawBody).toContain(`${PUBLIC_URL}/v1/findings/${dedupKey}`);
        expect(receiver.requests[0].rawBody).toContain(target.eventName);
      }
      expect(webhook.requests.map((r) => r.body.detail.sharedEventID)).toEqual([dedupKey, dedupKey]);
    },
    20 * MINUTE_MS,
  );
});
