import type { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS } from '@trailsight/domain';
import { eventually } from './support/app-process.js';
import { startLiveStack, type LiveStack } from './support/live-stack.js';
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
  let stack: LiveStack;
  let client: Redis;
  let simulatorUrl: string;
  let slack: VendorReceiver;
  let teams: VendorReceiver;
  let pagerduty: VendorReceiver;
  let webhook: WebhookReceiver;
  let target: { eventSource: string; eventName: string };
  let oldSpikeStart: number;

  beforeAll(async () => {
    [slack, teams, pagerduty] = await Promise.all([
      startVendorReceiver('slack'),
      startVendorReceiver('teams'),
      startVendorReceiver('pagerduty'),
    ]);
    webhook = await startWebhookReceiver({ secret: 'destinations-e2e-secret-0123' });
    stack = await startLiveStack({
      adminKey: ADMIN_KEY,
      seed: 5,
      account: ACCOUNT,
      region: REGION,
      lookupRate: 40,
      backfillHours: 4,
      env: {
        WEBHOOK_MAX_INSIGHT_AGE_MINUTES: '60',
        SECRETS_KEY: Buffer.alloc(32, 9).toString('base64'),
        PUBLIC_URL,
      },
      // Nothing has been served yet: the back-filled history may still get an anomaly.
      beforeServe: (simulator) => {
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
        simulator.generator.injectAnomaly({
          kind: 'spike',
          ...target,
          factor: 12,
          minutes: 4,
          startMinute: oldSpikeStart,
        });
      },
      // The subscriptions exist before the history is read, so only the catch-up rule keeps it quiet.
      beforeWorkers: async (live) => {
        const filter = { eventSource: [target.eventSource], insightType: ['ApiCallRateInsight'] };
        for (const body of [
          { type: 'slack', url: slack.url, events: ['insight.start'], filter },
          { type: 'teams', url: teams.url, events: ['insight.start'], filter },
          { type: 'pagerduty', url: pagerduty.url, routingKey: ROUTING_KEY, filter },
          { url: webhook.url, secret: 'destinations-e2e-secret-0123', filter },
        ]) {
          const created = await live.call('POST', '/v1/webhooks', body);
          expect(created.status).toBe(201);
        }
      },
    });
    ({ client, simulatorUrl } = stack);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([slack, teams, pagerduty, webhook].filter(Boolean).map((r) => r.close()));
  });

  const call = (method: string, path: string, body?: unknown) => stack.call(method, path, body);
  const withAppLogs = (error: Error): never => stack.withAppLogs(error);

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
