import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { AuthModule, CoreModule, loadConfig, mountSwagger, useJsonBodies } from '@trailsight/core';
import type { InsightRecord } from '@trailsight/domain';
import {
  buildEndRecord,
  buildStartRecord,
  FindingsRepository,
  newFinding,
  type InsightInput,
} from '@trailsight/findings';
import { QueueModule } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../test/support/redis-server.js';
import { startVendorReceiver, type VendorReceiver } from '../../../test/support/vendor-receivers.js';
import {
  startWebhookReceiver,
  verifyTrailsightSignature,
  type WebhookReceiver,
} from '../../../test/support/webhook-receiver.js';
import { InsightNotifier } from './delivery/insight-notifier.js';
import { systemResolver, WebhookUrlGuard } from './safety/webhook-url.guard.js';
import { WebhooksModule } from './webhooks.module.js';

/**
 * Slack, Teams and PagerDuty destinations and the catch-up rule, over HTTP: real Redis, the
 * real BullMQ worker, and local receivers that check each vendor's format.
 */
const ADMIN = 'admin-key-0123456789';
const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
const PUBLIC_URL = 'https://trailsight.example.com';
const MINUTE = 60_000;

let redis: ThrowawayRedis;
let client: Redis;
let app: NestFastifyApplication;
let notifier: InsightNotifier;
let base: string;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  const config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'dest',
    LOG_LEVEL: 'error',
    API_KEYS: `${ADMIN}:admin`,
    SECRETS_KEY,
    PUBLIC_URL,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_MAX_ATTEMPTS: '2',
    WEBHOOK_BACKOFF_MS: '50',
    WEBHOOK_DISABLE_AFTER: '2',
    WEBHOOK_MAX_INSIGHT_AGE_MINUTES: '60',
  });
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config }), QueueModule, AuthModule, WebhooksModule],
  })
    // PagerDuty's host resolves to a public address here, without DNS; the rest as usual.
    .overrideProvider(WebhookUrlGuard)
    .useValue(
      new WebhookUrlGuard({
        allowPrivate: true,
        allowedPorts: 'any',
        resolve: (host) =>
          host === 'events.pagerduty.com'
            ? Promise.resolve([{ address: '93.184.215.14', family: 4 }])
            : systemResolver(host),
      }),
    )
    .compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: ['error'],
    bodyParser: false,
  });
  useJsonBodies(app);
  mountSwagger(app);
  await app.listen(0, '127.0.0.1');
  base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  notifier = app.get(InsightNotifier);
}, 60_000);

afterEach(async () => {
  for (const { id } of (await call('GET', '/v1/webhooks')).body.items as Array<{ id: string }>) {
    await call('DELETE', `/v1/webhooks/${id}`);
  }
  await Promise.all(closers.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await app?.close();
  await client?.quit();
  await redis?.stop();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json: any = text ? JSON.parse(text) : undefined;
  return { status: response.status, body: json };
}

async function vendor(kind: 'slack' | 'teams' | 'pagerduty'): Promise<VendorReceiver> {
  const receiver = await startVendorReceiver(kind);
  closers.push(receiver);
  return receiver;
}

const input: InsightInput = {
  accountId: '123456789012',
  region: 'eu-west-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight',
  startMinute: Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE,
  durationMinutes: 1,
  insightAverage: 40,
  baselineAverage: 2,
  baselineDurationMinutes: 10080,
  attributions: {
    userIdentityArn: [
      { value: 'arn:aws:sts::123456789012:assumed-role/deploy-bot/ci', insightAverage: 38, baselineAverage: 0 },
    ],
  },
};

function insight(over: Partial<InsightInput> = {}): { start: InsightRecord; end: InsightRecord } {
  const sharedEventID = randomUUID();
  const all = { ...input, ...over };
  return {
    start: buildStartRecord(all, { sharedEventID }),
    end: buildEndRecord({ ...all, durationMinutes: 4 }, { sharedEventID }),
  };
}

describe('Slack, Teams and PagerDuty subscriptions', () => {
  it('sends one valid Block Kit message per Start and End to Slack, with the facts and a link', async () => {
    const slack = await vendor('slack');
    const created = await call('POST', '/v1/webhooks', { type: 'slack', url: slack.url });
    expect(created.status).toBe(201);
    expect(created.body.type).toBe('slack');
    const { start, end } = insight();
    await notifier.notify('insight.start', start);
    await notifier.notify('insight.end', end);
    await slack.waitFor('two messages', (r) => r.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.requests.map((r) => r.problems)).toEqual([[], []]);
    const [first, second] = slack.requests.map((r) => r.rawBody);
    expect(first).toContain('started');
    expect(second).toContain('ended');
    for (const fact of [
      'RunInstances',
      'account 123456789012, eu-west-1',
      'deploy-bot',
      `${PUBLIC_URL}/v1/findings/${start.sharedEventID}`,
    ]) {
      expect(first).toContain(fact);
    }
    const log = await call('GET', `/v1/webhooks/${created.body.id}/deliveries`);
    const items = log.body.items as Array<{ outcome: string }>;
    expect(items.map((a) => a.outcome)).toEqual(['delivered', 'delivered']);
  });

  it('sends one valid Adaptive Card per Start to Teams', async () => {
    const teams = await vendor('teams');
    expect(
      (await call('POST', '/v1/webhooks', { type: 'teams', url: teams.url, events: ['insight.start'] })).status,
    ).toBe(201);
    const { start, end } = insight();
    await notifier.notify('insight.start', start);
    await notifier.notify('insight.end', end);
    await teams.waitFor('one card', (r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(teams.requests).toHaveLength(1);
    expect(teams.requests[0].problems).toEqual([]);
    expect(teams.requests[0].rawBody).toContain('deploy-bot');
  });

  it('triggers then resolves PagerDuty with the same dedup_key; the routing key is sealed and never shown', async () => {
    const pagerduty = await vendor('pagerduty');
    const created = await call('POST', '/v1/webhooks', {
      type: 'pagerduty',
      routingKey: ROUTING_KEY,
      url: pagerduty.url,
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(ROUTING_KEY);
    expect(JSON.stringify((await call('GET', `/v1/webhooks/${created.body.id}`)).body)).not.toContain(ROUTING_KEY);
    const stored = await client.hgetall(`dest:{webhooks}:sub:${created.body.id}`);
    expect(stored.routingKeyEnc).toBeTruthy();
    expect(JSON.stringify(stored)).not.toContain(ROUTING_KEY);

    const { start, end } = insight();
    await notifier.notify('insight.start', start);
    await notifier.notify('insight.end', end);
    await pagerduty.waitFor('trigger and resolve', (r) => r.length >= 2);
    expect(pagerduty.requests.map((r) => r.problems)).toEqual([[], []]);
    expect(pagerduty.requests.map((r) => [r.body.event_action, r.body.dedup_key, r.body.routing_key])).toEqual([
      ['trigger', start.sharedEventID, ROUTING_KEY],
      ['resolve', start.sharedEventID, ROUTING_KEY],
    ]);
    expect(pagerduty.requests[0].body.payload).toMatchObject({ severity: 'critical' });

    // The test route checks the path and key without paging: a resolve of a key no alert uses.
    const ping = await call('POST', `/v1/webhooks/${created.body.id}/test`);
    expect(ping.body).toMatchObject({ outcome: 'delivered', status: 202 });
    expect(pagerduty.requests[2].body.event_action).toBe('resolve');
  });

  it('defaults the PagerDuty URL to the Events API v2 endpoint and refuses bad bodies, naming the field', async () => {
    const created = await call('POST', '/v1/webhooks', { type: 'pagerduty', routingKey: ROUTING_KEY, enabled: false });
    expect(created.status).toBe(201);
    expect(created.body.url).toBe('https://events.pagerduty.com/v2/enqueue');
    const missing = await call('POST', '/v1/webhooks', { type: 'pagerduty' });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('routingKey');
    const bad = await call('POST', '/v1/webhooks', { type: 'pagerduty', routingKey: 'short' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('routingKey must be a PagerDuty integration key');
    const wrongType = await call('POST', '/v1/webhooks', {
      type: 'slack',
      url: 'http://127.0.0.1:9/x',
      routingKey: ROUTING_KEY,
    });
    expect(wrongType.status).toBe(400);
    expect((await call('POST', '/v1/webhooks', { type: 'discord', url: 'http://127.0.0.1:9/x' })).status).toBe(400);
    expect((await call('POST', '/v1/webhooks', { type: 'slack' })).status).toBe(400);
  });

  it('applies filters, retries and auto-disable to every type: a vendor refusing the format disables it', async () => {
    // A Slack subscription aimed at the PagerDuty receiver: its messages are refused (400) every time.
    const pagerduty = await vendor('pagerduty');
    const slack = await vendor('slack');
    const wrong = await call('POST', '/v1/webhooks', { type: 'slack', url: pagerduty.url });
    const filtered = await call('POST', '/v1/webhooks', {
      type: 'slack',
      url: slack.url,
      filter: { region: ['us-east-1'] },
    });
    for (let i = 0; i < 2; i++) await notifier.notify('insight.start', insight().start);
    for (;;) {
      const sub = await call('GET', `/v1/webhooks/${wrong.body.id}`);
      if (!sub.body.enabled) {
        expect(sub.body.disabledReason).toContain('HTTP 400');
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Two deliveries, two attempts each.
    expect(pagerduty.requests).toHaveLength(4);
    expect(slack.requests).toHaveLength(0);
    expect(filtered.status).toBe(201);
  });
});

describe('routing on new actors', () => {
  it('sends insights with a new actor to one destination and the rest to another; refuses an unknown kind', async () => {
    const findings = app.get(FindingsRepository);
    const onCall = await vendor('slack');
    const quiet = await vendor('slack');
    expect(
      (await call('POST', '/v1/webhooks', { type: 'slack', url: onCall.url, filter: { newActor: ['any'] } })).status,
    ).toBe(201);
    const known = await call('POST', '/v1/webhooks', { type: 'slack', url: quiet.url, filter: { newActor: ['none'] } });
    expect(known.body.filter).toEqual({ newActor: ['none'] });
    const stored = async (baselineAverage: number, who: string) => {
      const over: Partial<InsightInput> = {
        attributions: {
          userIdentityArn: [{ value: `arn:aws:iam::123456789012:role/${who}`, insightAverage: 38, baselineAverage }],
        },
      };
      const records = insight(over);
      await findings.open(newFinding({ ...input, ...over }, records.start, { direction: 'spike', peakScore: 9 }));
      return records.start;
    };
    await notifier.notify('insight.start', await stored(0, 'never-seen'));
    await notifier.notify('insight.start', await stored(1.5, 'nightly-batch'));
    await onCall.waitFor('one message', (r) => r.length >= 1);
    await quiet.waitFor('one message', (r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(onCall.requests.map((r) => r.rawBody.includes('never-seen'))).toEqual([true]);
    expect(quiet.requests.map((r) => r.rawBody.includes('nightly-batch'))).toEqual([true]);

    const bad = await call('POST', '/v1/webhooks', { type: 'slack', url: quiet.url, filter: { newActor: ['new'] } });
    expect([bad.status, bad.body.message]).toEqual([
      400,
      ['filter.newActor entries must be one of any, identity, userAgent, none'],
    ]);
  });
});

describe('catch-up is not an incident', () => {
  async function subscribed(): Promise<WebhookReceiver> {
    const receiver = await startWebhookReceiver();
    closers.push(receiver);
    expect((await call('POST', '/v1/webhooks', { url: receiver.url })).status).toBe(201);
    return receiver;
  }

  it('does not deliver an insight that began longer ago than WEBHOOK_MAX_INSIGHT_AGE_MINUTES, nor its End', async () => {
    const receiver = await subscribed();
    const old = insight({ startMinute: Math.floor(Date.now() / MINUTE) * MINUTE - 3 * 60 * MINUTE });
    const recent = insight({ startMinute: Math.floor(Date.now() / MINUTE) * MINUTE - 50 * MINUTE });
    await notifier.notify('insight.start', old.start);
    await notifier.notify('insight.end', old.end);
    await notifier.notify('insight.start', recent.start);
    await notifier.notify('insight.end', recent.end);
    await receiver.waitFor('the recent insight', (r) => r.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests.map((r) => [r.event, r.body.detail.sharedEventID])).toEqual([
      ['insight.start', recent.start.sharedEventID],
      ['insight.end', recent.start.sharedEventID],
    ]);
  });

  it('still delivers the End of an insight that was delivered live, however long it lasted', async () => {
    const receiver = await subscribed();
    const live = insight({ startMinute: Math.floor(Date.now() / MINUTE) * MINUTE - 2 * MINUTE });
    await notifier.notify('insight.start', live.start);
    const longEnd = buildEndRecord(
      { ...input, startMinute: Date.parse(live.start.eventTime), durationMinutes: 24 * 60 },
      { sharedEventID: live.start.sharedEventID },
    );
    await notifier.notify('insight.end', longEnd);
    await receiver.waitFor('start and end', (r) => r.length >= 2);
    expect(receiver.requests.map((r) => r.event)).toEqual(['insight.start', 'insight.end']);
  });
});

describe('delivery operations', () => {
  /** Stores the insight as a finding (as the evaluator does), so its records can be read back. */
  async function stored(over: Partial<InsightInput> = {}): Promise<{ start: InsightRecord; end: InsightRecord }> {
    const records = insight(over);
    const findings = app.get(FindingsRepository);
    await findings.open(newFinding({ ...input, ...over }, records.start, { direction: 'spike', peakScore: 9 }));
    await findings.close(records.start.sharedEventID, records.end, { peakScore: 9 });
    return records;
  }

  it('redelivers a logged delivery as a new one of the same record; refuses unknown ids and pings', async () => {
    const receiver = await startWebhookReceiver({ secret: 'redeliver-secret-0123456789' });
    closers.push(receiver);
    const created = await call('POST', '/v1/webhooks', { url: receiver.url, secret: 'redeliver-secret-0123456789' });
    const id = created.body.id as string;
    const { start } = await stored();
    await notifier.notify('insight.start', start);
    const [first] = await receiver.waitFor('the start', (r) => r.length >= 1);

    const again = await call('POST', `/v1/webhooks/${id}/deliveries/${first.deliveryId}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ event: 'insight.start', insightId: start.sharedEventID });
    const [, second] = await receiver.waitFor('the redelivery', (r) => r.length >= 2);
    expect(second.body.id).toBe(again.body.deliveryId);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.detail).toEqual(first.body.detail);
    expect(second.signatureValid).toBe(true);

    expect((await call('POST', `/v1/webhooks/${id}/deliveries/${randomUUID()}/redeliver`)).status).toBe(404);
    expect((await call('POST', `/v1/webhooks/${id}/deliveries/not-a-uuid/redeliver`)).status).toBe(400);
    const ping = await call('POST', `/v1/webhooks/${id}/test`);
    expect((await call('POST', `/v1/webhooks/${id}/deliveries/${ping.body.deliveryId}/redeliver`)).status).toBe(400);
    await call('PATCH', `/v1/webhooks/${id}`, { enabled: false });
    expect((await call('POST', `/v1/webhooks/${id}/deliveries/${first.deliveryId}/redeliver`)).status).toBe(409);
  });

  it('replays what a disabled subscription missed when re-enabled with replayMissed, newest first', async () => {
    const receiver = await startWebhookReceiver();
    closers.push(receiver);
    const created = await call('POST', '/v1/webhooks', { url: receiver.url, events: ['insight.start'] });
    const id = created.body.id as string;
    expect((await call('PATCH', `/v1/webhooks/${id}`, { enabled: false })).status).toBe(200);
    const now = Math.floor(Date.now() / MINUTE) * MINUTE;
    // Started before the subscription was disabled: not missed.
    const before = await stored({ eventName: 'Before', startMinute: now - 30 * MINUTE });
    await new Promise((r) => setTimeout(r, 5));
    await call('PATCH', `/v1/webhooks/${id}`, { description: 'still disabled' });
    const missedOld = await stored({ eventName: 'MissedOld', startMinute: now + MINUTE });
    const missedNew = await stored({ eventName: 'MissedNew', startMinute: now + 2 * MINUTE });
    await stored({ eventName: 'OtherRegion', region: 'us-west-2', startMinute: now + 3 * MINUTE });
    // The live path skips disabled subscriptions: nothing arrives.
    await notifier.notify('insight.start', missedNew.start);

    const bad = await call('PATCH', `/v1/webhooks/${id}`, { replayMissed: true });
    expect(bad.status).toBe(400);
    await call('PATCH', `/v1/webhooks/${id}`, { filter: { region: ['eu-west-1'] } });
    const enabled = await call('PATCH', `/v1/webhooks/${id}`, { enabled: true, replayMissed: true });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, replayed: 2 });
    await receiver.waitFor('two replayed starts', (r) => r.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    const names = receiver.requests.map((r) => (r.body.detail.insightDetails as { eventName?: string }).eventName);
    expect(names.sort()).toEqual(['MissedNew', 'MissedOld']);
    expect(names).not.toContain(before.start.insightDetails.eventName);
    expect(missedOld.start.sharedEventID).not.toBe(missedNew.start.sharedEventID);
    // Re-enabling an enabled subscription replays nothing.
    expect(
      (await call('PATCH', `/v1/webhooks/${id}`, { enabled: true, replayMissed: true })).body.replayed,
    ).toBeUndefined();
  });

  it('rotates the secret: both signatures for the grace period, each verifying with its own secret', async () => {
    const oldSecret = 'old-secret-0123456789abcdef';
    const receiver = await startWebhookReceiver({ secret: oldSecret });
    closers.push(receiver);
    const created = await call('POST', '/v1/webhooks', { url: receiver.url, secret: oldSecret });
    const id = created.body.id as string;
    const rotated = await call('POST', `/v1/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    const until = Date.parse(rotated.body.previousSecretValidUntil as string);
    expect(until - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect((await call('GET', `/v1/webhooks/${id}`)).body.previousSecretValidUntil).toBe(
      rotated.body.previousSecretValidUntil,
    );
    const stored = await client.hgetall(`dest:{webhooks}:sub:${id}`);
    expect(JSON.stringify(stored)).not.toContain(oldSecret);

    await notifier.notify('insight.start', insight().start);
    const [delivery] = await receiver.waitFor('a delivery', (r) => r.length >= 1);
    expect(delivery.signature.match(/v1=/g)).toHaveLength(2);
    expect(verifyTrailsightSignature(oldSecret, delivery.rawBody, delivery.signature)).toBe(true);
    expect(verifyTrailsightSignature(newSecret, delivery.rawBody, delivery.signature)).toBe(true);
    expect(verifyTrailsightSignature('another-secret-0123456789', delivery.rawBody, delivery.signature)).toBe(false);
    // README's receiver code, as written, accepts either secret as well.
    const readme = await loadReadmeVerify();
    expect(readme(oldSecret, delivery.rawBody, delivery.signature)).toBe(true);
    expect(readme(newSecret, delivery.rawBody, delivery.signature)).toBe(true);
    expect(readme('another-secret-0123456789', delivery.rawBody, delivery.signature)).toBe(false);

    const given = await call('POST', `/v1/webhooks/${id}/rotate-secret`, { secret: 'short' });
    expect(given.status).toBe(400);
    expect(JSON.stringify(given.body)).toContain('secret');
    expect((await call('POST', `/v1/webhooks/${randomUUID()}/rotate-secret`)).status).toBe(404);
  });
});

/** README.md's verify(), run as written. */
async function loadReadmeVerify(): Promise<(secret: string, rawBody: string, header: string) => boolean> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const block = /```js\n(import \{ createHmac[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no receiver code block');
  const dir = mkdtempSync(join(tmpdir(), 'readme-verify-'));
  const file = join(dir, 'verify.mjs');
  writeFileSync(file, `${block}\nexport { verify };\n`);
  try {
    return ((await import(pathToFileURL(file).href)) as { verify: (s: string, b: string, h: string) => boolean })
      .verify;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
