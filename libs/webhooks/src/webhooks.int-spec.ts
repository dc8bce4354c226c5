import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { bullPrefix, CoreModule, loadConfig } from '@trailsight/core';
import {
  buildEndRecord,
  buildStartRecord,
  FindingsRepository,
  newFinding,
  type InsightInput,
} from '@trailsight/findings';
import { type InsightRecord } from '@trailsight/domain';
import { QueueModule, QueueName } from '@trailsight/queue';
import { Queue } from 'bullmq';
import { startRedis, type ThrowawayRedis } from '../../../test/support/redis-server.js';
import {
  OK,
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../../test/support/webhook-receiver.js';
import { InsightNotifier } from './delivery/insight-notifier.js';
import { deliveryIdFor } from './delivery/webhook-envelope.js';
import type { CreateWebhookRequestDto } from './subscriptions/dto/webhook-request.dto.js';
import type { DeliveryAttempt } from './subscriptions/webhook-subscription.js';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository.js';
import { WebhooksService } from './subscriptions/webhooks.service.js';
import { WebhooksModule } from './webhooks.module.js';

/**
 * Deliveries end to end inside one Nest app: real Redis, real BullMQ worker, real HTTP
 * receivers on 127.0.0.1 (hence WEBHOOK_ALLOW_PRIVATE=true).
 */
const TIMEOUT_MS = 3_000;
const SECRET = 'test-secret-0123456789abcdef';

let redis: ThrowawayRedis;
let app: INestApplication;
let notifier: InsightNotifier;
let webhooks: WebhooksService;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'whint',
    LOG_LEVEL: 'error',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    WEBHOOK_MAX_ATTEMPTS: '6',
    WEBHOOK_BACKOFF_MS: '100',
    WEBHOOK_DISABLE_AFTER: '2',
    WEBHOOK_CONCURRENCY: '16',
  });
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config }), QueueModule, WebhooksModule],
  }).compile();
  app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: ['error'] });
  await app.init();
  notifier = app.get(InsightNotifier);
  webhooks = app.get(WebhooksService);
}, 60_000);

afterEach(async () => {
  for (const subscription of await webhooks.list()) await webhooks.delete(subscription.id);
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  await app?.close();
  await redis?.stop();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver({ secret: SECRET });
  receivers.push(r);
  return r;
}

async function subscribe(r: WebhookReceiver, over: Partial<CreateWebhookRequestDto> = {}): Promise<string> {
  const { subscription } = await webhooks.create({ url: r.url, secret: SECRET, ...over });
  return subscription.id;
}

const base: InsightInput = {
  accountId: '123456789012',
  region: 'us-east-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight',
  startMinute: Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000,
  durationMinutes: 1,
  insightAverage: 42,
  baselineAverage: 0.25,
  baselineDurationMinutes: 10080,
};

function insight(over: Partial<InsightInput> = {}): { start: InsightRecord; end: InsightRecord } {
  const input = { ...base, ...over };
  const sharedEventID = randomUUID();
  return {
    start: buildStartRecord(input, { sharedEventID }),
    end: buildEndRecord({ ...input, durationMinutes: 4, insightAverage: 30 }, { sharedEventID }),
  };
}

const states = (requests: ReceivedWebhook[]) => requests.map((r) => r.body.detail.insightDetails?.state);

async function logOf(
  id: string,
  check: (log: DeliveryAttempt[]) => boolean,
  timeoutMs = 20_000,
): Promise<DeliveryAttempt[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await webhooks.deliveries(id, 200);
    if (check(log)) return log;
    if (Date.now() > deadline) throw new Error(`delivery log of ${id} never matched: ${JSON.stringify(log)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhook delivery', () => {
  it('delivers a signed insight.start, then insight.end, once each, even when the evaluator re-notifies', async () => {
    const r = await receiver();
    const id = await subscribe(r);
    const { start, end } = insight();

    await notifier.notify('insight.start', start);
    await notifier.notify('insight.end', end);
    await r.waitFor('start and end', (requests) => requests.length >= 2);

    expect(r.requests.map((q) => q.event)).toEqual(['insight.start', 'insight.end']);
    expect(states(r.requests)).toEqual(['Start', 'End']);
    for (const [i, record] of [start, end].entries()) {
      const got = r.requests[i];
      expect(got.signatureValid).toBe(true);
      expect(got.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(got.deliveryId).toBe(deliveryIdFor(id, record.eventID));
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.body).toEqual({
        version: '0',
        id: got.deliveryId,
        'detail-type': 'AWS Insight via CloudTrail',
        source: 'aws.cloudtrail',
        account: '123456789012',
        time: record.eventTime,
        region: 'us-east-1',
        resources: [],
        detail: record,
      });
    }

    // A re-run evaluator notifies the same records again: nothing new is delivered.
    await notifier.notify('insight.start', start);
    await notifier.notify('insight.end', end);
    const barrier = insight();
    await notifier.notify('insight.start', barrier.start);
    await r.waitFor('the barrier insight', (requests) => requests.length >= 3);
    expect(r.requests.map((q) => q.body.detail.eventID)).toEqual([start.eventID, end.eventID, barrier.start.eventID]);

    const log = await webhooks.deliveries(id);
    expect(log.map((a) => [a.event, a.outcome, a.status])).toEqual([
      ['insight.start', 'delivered', 200],
      ['insight.end', 'delivered', 200],
      ['insight.start', 'delivered', 200],
    ]);
  }, 30_000);

  it('delivers neither the Start nor the End of a finding stored as suppressed', async () => {
    const r = await receiver();
    const id = await subscribe(r);
    const findings = app.get(FindingsRepository);
    const muted = insight({ eventName: 'TerminateInstances' });
    const finding = newFinding({ ...base, eventName: 'TerminateInstances' }, muted.start, {
      direction: 'spike',
      peakScore: 8,
    });
    await findings.open({ ...finding, suppressedBy: ['4f0c2b8e-3d1a-4c5e-9b7f-2a6d8e0c1b3f'] });
    const loud = insight();

    await notifier.notify('insight.start', muted.start);
    await notifier.notify('insight.end', muted.end);
    await notifier.notify('insight.start', loud.start);
    await notifier.notify('insight.end', loud.end);
    await r.waitFor('the unmuted start and end', (requests) => requests.length >= 2);

    // The muted finding's notifications enqueued nothing: only the other finding was delivered.
    expect(r.requests.map((q) => q.body.detail.sharedEventID)).toEqual([
      loud.start.sharedEventID,
      loud.end.sharedEventID,
    ]);
    const log = await webhooks.deliveries(id);
    expect(log.map((a) => a.deliveryId).sort()).toEqual(
      [deliveryIdFor(id, loud.start.eventID), deliveryIdFor(id, loud.end.eventID)].sort(),
    );
  });

  it('does not deliver the End of a finding acknowledged or resolved before its insight ended', async () => {
    const r = await receiver();
    await subscribe(r);
    const findings = app.get(FindingsRepository);
    const acknowledged = insight({ eventName: 'AckedApi' });
    const resolved = insight({ eventName: 'ResolvedApi' });
    const untouched = insight({ eventName: 'UntouchedApi' });
    for (const { start } of [acknowledged, resolved, untouched]) {
      const input = { ...base, eventName: start.insightDetails.eventName };
      await findings.open(newFinding(input, start, { direction: 'spike', peakScore: 9 }));
      await notifier.notify('insight.start', start);
    }
    await findings.triage(acknowledged.start.sharedEventID, { to: 'acknowledged', keyId: 'k1' });
    await findings.triage(resolved.start.sharedEventID, { to: 'resolved', keyId: 'k1' });
    for (const { end } of [acknowledged, resolved, untouched]) await notifier.notify('insight.end', end);
    // The untouched End is the barrier: it is enqueued after the other two were (or were not).
    await r.waitFor('the untouched End', (requests) => requests.some((q) => q.event === 'insight.end'));
    const ends = r.requests.filter((q) => q.event === 'insight.end').map((q) => q.body.detail.sharedEventID);
    expect(ends).toEqual([untouched.end.sharedEventID]);
    expect(r.requests.filter((q) => q.event === 'insight.start')).toHaveLength(3);
  }, 30_000);

  it('holds an End back until its Start is delivered, across Start retries', async () => {
    const r = await receiver();
    // The first request (the Start) fails twice; everything after succeeds.
    r.respond((n) => (n < 2 ? { kind: 'status', status: 503 } : OK));
    await subscribe(r);
    const { start, end } = insight();
    await notifier.notify('insight.start', start);
    await notifier.notify('insight.end', end);
    await r.waitFor('End delivered', (requests) => requests.some((q) => q.event === 'insight.end'));
    expect(r.requests.map((q) => `${q.event}:${q.answered}`)).toEqual([
      'insight.start:503',
      'insight.start:503',
      'insight.start:200',
      'insight.end:200',
    ]);
    // Retries keep the delivery id.
    expect(new Set(r.requests.slice(0, 3).map((q) => q.deliveryId)).size).toBe(1);
  }, 30_000);

  it('routes deliveries by event type and filter, only to matching subscribers', async () => {
    const [ec2, iamErrors, endsOnly, everything] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    await subscribe(ec2, { filter: { eventSource: ['ec2.amazonaws.com'] } });
    await subscribe(iamErrors, {
      filter: { insightType: ['ApiErrorRateInsight'], errorCode: ['AccessDenied'], region: ['us-east-1'] },
    });
    await subscribe(endsOnly, { events: ['insight.end'] });
    await subscribe(everything);

    const calls = insight();
    const denied = insight({
      eventSource: 'iam.amazonaws.com',
      eventName: 'GetRole',
      insightType: 'ApiErrorRateInsight',
      errorCode: 'AccessDenied',
    });
    const throttled = insight({
      eventSource: 'iam.amazonaws.com',
      eventName: 'GetRole',
      insightType: 'ApiErrorRateInsight',
      errorCode: 'Throttling',
    });
    const otherRegion = insight({
      eventSource: 'iam.amazonaws.com',
      insightType: 'ApiErrorRateInsight',
      errorCode: 'AccessDenied',
      region: 'eu-west-1',
    });
    for (const { start } of [calls, denied, throttled, otherRegion]) await notifier.notify('insight.start', start);
    await notifier.notify('insight.end', calls.end);

    await everything.waitFor('all five records', (requests) => requests.length >= 5);
    await ec2.waitFor('ec2 start and end', (requests) => requests.length >= 2);
    await iamErrors.waitFor('the AccessDenied start', (requests) => requests.length >= 1);
    await endsOnly.waitFor('the one end', (requests) => requests.length >= 1);

    const ids = (r: WebhookReceiver) => r.requests.map((q) => q.body.detail.eventID).sort();
    expect(ids(ec2)).toEqual([calls.start.eventID, calls.end.eventID].sort());
    expect(ids(iamErrors)).toEqual([denied.start.eventID]);
    expect(ids(endsOnly)).toEqual([calls.end.eventID]);
    expect(ids(everything)).toHaveLength(5);
    for (const r of [ec2, iamErrors, endsOnly, everything])
      expect(r.requests.every((q) => q.signatureValid)).toBe(true);
  }, 30_000);

  it('retries while the receiver is down and delivers exactly once per delivery id when it is back', async () => {
    const r = await receiver();
    const id = await subscribe(r);
    await r.down();
    const first = insight();
    const second = insight({ eventName: 'CreateVolume' });
    await notifier.notify('insight.start', first.start);
    await notifier.notify('insight.start', second.start);
    await logOf(id, (log) => log.filter((a) => a.outcome === 'failed').length >= 2);
    await r.up();

    await r.waitFor('both deliveries', (requests) => requests.length >= 2);
    const log = await logOf(id, (entries) => entries.filter((a) => a.outcome === 'delivered').length >= 2);
    const failed = log.filter((a) => a.outcome === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((a) => /ECONNREFUSED/.test(a.error ?? ''))).toBe(true);
    expect(log.filter((a) => a.outcome === 'delivered').every((a) => a.attempt >= 2)).toBe(true);
    // One more notification as a barrier: nothing was delivered twice meanwhile.
    const barrier = insight({ eventName: 'DeleteVolume' });
    await notifier.notify('insight.start', barrier.start);
    await r.waitFor('the barrier', (requests) => requests.length >= 3);
    const perDelivery = new Map<string, number>();
    for (const q of r.accepted()) perDelivery.set(q.deliveryId, (perDelivery.get(q.deliveryId) ?? 0) + 1);
    expect([...perDelivery.values()]).toEqual([1, 1, 1]);
    expect((await webhooks.get(id)).consecutiveFailures).toBe(0);
  }, 40_000);

  it('does not let a failing, hanging or slow subscriber delay the others', async () => {
    const [failing, hanging, slow, fast] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    failing.respond({ kind: 'status', status: 500 });
    hanging.respond({ kind: 'hang' });
    slow.respond({ kind: 'slow', delayMs: 600 });
    const hangingId = await subscribe(hanging);
    const failingId = await subscribe(failing);
    await subscribe(slow);
    await subscribe(fast);

    const records = Array.from({ length: 5 }, (_, i) => insight({ eventName: `Api${i}` }).start);
    const notifiedAt = Date.now();
    for (const record of records) await notifier.notify('insight.start', record);

    await fast.waitFor('all five', (requests) => requests.length >= 5);
    const fastDone = Math.max(...fast.requests.map((q) => q.receivedAt)) - notifiedAt;
    // Everything reached the fast subscriber before the first hanging attempt had even timed out.
    expect(fastDone).toBeLessThan(TIMEOUT_MS);
    await slow.waitFor('all five', (requests) => requests.length >= 5);

    const hangLog = await logOf(hangingId, (log) => log.some((a) => a.outcome === 'failed'));
    const timedOut = hangLog.find((a) => a.outcome === 'failed')!;
    expect(timedOut.error).toBe(`timed out after ${TIMEOUT_MS} ms`);
    expect(timedOut.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    const failLog = await logOf(failingId, (log) => log.some((a) => a.status === 500));
    expect(failLog.find((a) => a.status === 500)).toMatchObject({ outcome: 'failed', error: 'HTTP 500: nope' });
  }, 40_000);

  it('disables a subscription after a run of failed deliveries and says why; re-enabling resets it', async () => {
    // The totals are cluster-wide: let retries left over from earlier tests finish first.
    const queue = new Queue(QueueName.Webhooks, { connection: { port: redis.port }, prefix: bullPrefix('whint') });
    try {
      const idleBy = Date.now() + 40_000;
      for (;;) {
        const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        if (Object.values(counts).every((n) => n === 0)) break;
        if (Date.now() > idleBy) throw new Error(`webhook jobs still pending: ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await queue.close();
    }
    const store = app.get(SubscriptionsRepository);
    const before = await store.totals();
    const r = await receiver();
    r.respond({ kind: 'status', status: 500 });
    const id = await subscribe(r);
    await notifier.notify('insight.start', insight({ eventName: 'A' }).start);
    await notifier.notify('insight.start', insight({ eventName: 'B' }).start);

    const deadline = Date.now() + 30_000;
    let subscription = await webhooks.get(id);
    while (subscription.enabled && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      subscription = await webhooks.get(id);
    }
    expect(subscription).toMatchObject({
      enabled: false,
      consecutiveFailures: 2,
      disabledReason: 'disabled after 2 consecutive failed deliveries; last: HTTP 500: nope',
    });
    expect(r.requests).toHaveLength(12); // 2 deliveries x 6 attempts
    // The cluster-wide totals behind /metrics: 12 failed attempts, 2 deliveries given up.
    const after = await store.totals();
    expect(after.attempts.failed - before.attempts.failed).toBe(12);
    expect(after.givenUp - before.givenUp).toBe(2);
    expect((await webhooks.list()).find((s) => s.id === id)?.disabledReason).toContain(
      '2 consecutive failed deliveries',
    );

    // Disabled: new insights are not delivered to it.
    const countBefore = r.requests.length;
    const other = await receiver();
    await subscribe(other);
    const later = insight({ eventName: 'C' }).start;
    await notifier.notify('insight.start', later);
    await other.waitFor('the later insight', (requests) => requests.length >= 1);
    expect(r.requests).toHaveLength(countBefore);

    r.respond(OK);
    const { subscription: enabled } = await webhooks.update(id, { enabled: true });
    expect(enabled).toMatchObject({ enabled: true, consecutiveFailures: 0 });
    expect(enabled.disabledReason).toBeUndefined();
    await notifier.notify('insight.start', insight({ eventName: 'D' }).start);
    await r.waitFor('delivery after re-enabling', (requests) => requests.some((q) => q.answered === 200));
  }, 100_000);

  it('refuses to follow a redirect (here to the metadata address) and logs why', async () => {
    const r = await receiver();
    r.respond({ kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data/' });
    const id = await subscribe(r);
    await notifier.notify('insight.start', insight().start);
    const log = await logOf(id, (entries) => entries.length >= 1);
    expect(log[0]).toMatchObject({
      outcome: 'failed',
      status: 302,
      // Scheme and host only: a redirect target may carry a token.
      error: 'redirect (302) to http://169.254.169.254 not followed',
    });
  }, 30_000);

  it("README's receiver dedupes on the signed body id: the same on every retry, and a forged header does not get a replay through", async () => {
    const readme = await loadReadmeReceiver();
    const r = await receiver();
    // Two failed attempts, then accepted: three copies of one delivery.
    r.respond((n) => (n < 2 ? { kind: 'status', status: 500 } : OK));
    await subscribe(r);
    await notifier.notify('insight.start', insight().start);
    const copies = await r.waitFor('three attempts of one delivery', (requests) => requests.length >= 3);

    const ids = new Set(copies.map((q) => q.body.id));
    expect(ids.size).toBe(1);
    expect(copies.every((q) => q.body.id === q.deliveryId && q.signatureValid)).toBe(true);
    // The id is covered by the signature: the same body with another id does not verify.
    const [first] = copies;
    const otherId = first.rawBody.replace(first.body.id, randomUUID());
    expect(readme.verify(SECRET, otherId, first.signature)).toBe(false);
    expect(readme.verify(SECRET, first.rawBody, first.signature)).toBe(true);

    // Each copy through README's receive(): handled once, the retries acknowledged as duplicates.
    const handled: unknown[] = [];
    const statuses = copies.map((q) => readme.receive(SECRET, q.rawBody, q.signature, (e) => handled.push(e)));
    expect(statuses).toEqual([204, 200, 200]);
    expect(handled).toHaveLength(1);
    // A captured body replayed under a fresh X-Trailsight-Delivery: the header plays no part, still a duplicate.
    const replay = await fetch(r.url, {
      method: 'POST',
      headers: { 'x-trailsight-delivery': randomUUID(), 'x-trailsight-signature': first.signature },
      body: first.rawBody,
    });
    expect(replay.status).toBe(200);
    const replayed = r.requests.at(-1);
    expect(replayed?.deliveryId).not.toBe(first.deliveryId);
    expect(readme.receive(SECRET, replayed?.rawBody ?? '', replayed?.signature ?? '', (e) => handled.push(e))).toBe(
      200,
    );
    expect(handled).toHaveLength(1);
  }, 30_000);
});

interface ReadmeReceiver {
  verify(secret: string, rawBody: string, header: string): boolean;
  receive(secret: string, rawBody: string, header: string, handle: (event: unknown) => void): number;
}

/** The receiver code of README.md's Webhooks section, run as written (it is what receivers copy). */
async function loadReadmeReceiver(): Promise<ReadmeReceiver> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const block = /```js\n(import \{ createHmac[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no receiver code block (```js starting with import { createHmac)');
  const dir = mkdtempSync(join(tmpdir(), 'readme-receiver-'));
  const file = join(dir, 'receiver.mjs');
  writeFileSync(file, `${block}\nexport { verify, receive };\n`);
  try {
    return (await import(pathToFileURL(file).href)) as ReadmeReceiver;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
