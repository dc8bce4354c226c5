import type { Redis } from 'ioredis';
import type { Simulator } from '@trailsight/simulator';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS } from '@trailsight/domain';
import { eventually } from './support/app-process.js';
import { startLiveStack, type LiveStack } from './support/live-stack.js';
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
  let stack: LiveStack;
  let client: Redis;
  let simulator: Simulator;
  let simulatorUrl: string;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret: SECRET });
    stack = await startLiveStack({ adminKey: ADMIN_KEY, seed: 5, account: ACCOUNT, region: REGION });
    ({ client, simulator, simulatorUrl } = stack);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const call = (method: string, path: string, body?: unknown) => stack.call(method, path, body);
  const withAppLogs = (error: Error): never => stack.withAppLogs(error);

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
