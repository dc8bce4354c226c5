import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, loadConfig, type AppConfig } from '@trailsight/core';
import { buildStartRecord } from '@trailsight/findings';
import { type InsightRecord } from '@trailsight/domain';
import { QueueModule } from '@trailsight/queue';
import { InsightNotifier, WebhooksModule, WebhooksService } from '@trailsight/webhooks';
import { startRedis } from '../test/support/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test/support/webhook-receiver.js';
import { printHeadline, progress, round } from './bench-support.js';

/**
 * npm run bench:webhooks: one insight fanned out to 100 local receivers through the real
 * notifier, BullMQ queue and delivery worker (signing, delivery log, Redis bookkeeping), and a
 * burst of insights for deliveries per second. The baseline, measured in the same run against
 * the same receivers with the same body, is bare `fetch` POSTs at the same concurrency.
 */
const env = process.env;
const SUBSCRIBERS = Number(env.BENCH_SUBSCRIBERS ?? 100);
const FANOUT_RUNS = Number(env.BENCH_FANOUT_RUNS ?? 7);
const BURST_INSIGHTS = Number(env.BENCH_BURST_INSIGHTS ?? 30);
const SECRET = 'bench-secret-0123456789abcdef';

@Module({})
class BenchModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: BenchModule, imports: [CoreModule.forRoot({ config }), QueueModule, WebhooksModule] };
  }
}

function record(i: number): InsightRecord {
  return buildStartRecord(
    {
      accountId: '123456789012',
      region: 'us-east-1',
      eventSource: 'ec2.amazonaws.com',
      eventName: `Api${i}`,
      insightType: 'ApiCallRateInsight',
      startMinute: Math.floor(Date.now() / 60_000) * 60_000,
      durationMinutes: 1,
      insightAverage: 50,
      baselineAverage: 1,
      baselineDurationMinutes: 10080,
      attributions: {
        userIdentityArn: [{ value: 'arn:aws:iam::123456789012:user/alice', insightAverage: 50, baselineAverage: 1 }],
      },
    },
    { sharedEventID: randomUUID() },
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const accepted = (receivers: WebhookReceiver[]) => receivers.reduce((n, r) => n + r.accepted().length, 0);

async function allReceived(receivers: WebhookReceiver[], total: number): Promise<void> {
  await Promise.all(
    receivers.map((r) => r.waitFor(`${total} deliveries`, () => r.accepted().length >= total, 120_000)),
  );
}

/** `count` POSTs of `body` spread over the receivers, `concurrency` at a time, with bare fetch. */
async function bareFetch(
  receivers: WebhookReceiver[],
  count: number,
  concurrency: number,
  body: string,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const response = await fetch(receivers[i % receivers.length].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const redis = await startRedis();
const receivers = await Promise.all(
  Array.from({ length: SUBSCRIBERS }, () => startWebhookReceiver({ secret: SECRET })),
);
const config = loadConfig({
  REDIS_URL: redis.url,
  REDIS_PREFIX: 'whbench',
  LOG_LEVEL: 'error',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  ...(env.WEBHOOK_CONCURRENCY ? { WEBHOOK_CONCURRENCY: env.WEBHOOK_CONCURRENCY } : {}),
});
const app = await NestFactory.createApplicationContext(BenchModule.forRoot(config), { logger: ['error'] });
try {
  await app.init();
  const notifier = app.get(InsightNotifier);
  const webhooks = app.get(WebhooksService);
  for (const r of receivers) await webhooks.create({ url: r.url, secret: SECRET });
  progress(`${SUBSCRIBERS} receivers subscribed; worker concurrency ${config.webhookConcurrency}; redis ${redis.url}`);
  const body = JSON.stringify({ version: '0', detail: record(0) });

  // Warm-up: connections, JIT, BullMQ scripts.
  let expected = 0;
  await notifier.notify('insight.start', record(-1));
  await allReceived(receivers, ++expected);
  await bareFetch(receivers, SUBSCRIBERS, config.webhookConcurrency, body);
  expected += 1;

  const fanout: number[] = [];
  const baselineFanout: number[] = [];
  for (let run = 0; run < FANOUT_RUNS; run++) {
    let started = performance.now();
    await notifier.notify('insight.start', record(run));
    await allReceived(receivers, ++expected);
    fanout.push(performance.now() - started);

    started = performance.now();
    await bareFetch(receivers, SUBSCRIBERS, config.webhookConcurrency, body);
    await allReceived(receivers, ++expected);
    baselineFanout.push(performance.now() - started);
  }
  progress(
    `fan-out to ${SUBSCRIBERS}: ${fanout.map((v) => round(v, 1)).join(', ')} ms; bare fetch ${baselineFanout.map((v) => round(v, 1)).join(', ')} ms`,
  );

  const burst = BURST_INSIGHTS * SUBSCRIBERS;
  let started = performance.now();
  for (let i = 0; i < BURST_INSIGHTS; i++) await notifier.notify('insight.start', record(1000 + i));
  expected += BURST_INSIGHTS;
  await allReceived(receivers, expected);
  const burstMs = performance.now() - started;

  started = performance.now();
  await bareFetch(receivers, burst, config.webhookConcurrency, body);
  expected += BURST_INSIGHTS;
  await allReceived(receivers, expected);
  const baselineBurstMs = performance.now() - started;

  const signedOk = receivers.every((r) =>
    r
      .accepted()
      .filter((q) => q.event)
      .every((q) => q.signatureValid),
  );
  if (!signedOk) throw new Error('a delivery arrived with a bad signature');
  const fanoutMs = median(fanout);
  const baselineMs = median(baselineFanout);
  const perSecond = burst / (burstMs / 1000);
  const baselinePerSecond = burst / (baselineBurstMs / 1000);
  progress(
    `${burst} deliveries in ${round(burstMs)} ms; bare fetch ${round(baselineBurstMs)} ms; ${accepted(receivers)} requests accepted in all`,
  );
  printHeadline({
    subscribers: SUBSCRIBERS,
    worker_concurrency: config.webhookConcurrency,
    fanout_100_subscribers_ms: round(fanoutMs, 1),
    baseline_fetch_fanout_ms: round(baselineMs, 1),
    fanout_ratio_vs_fetch: round(fanoutMs / baselineMs, 2),
    deliveries: burst,
    deliveries_per_s: round(perSecond, 0),
    baseline_fetch_per_s: round(baselinePerSecond, 0),
    throughput_ratio_vs_fetch: round(perSecond / baselinePerSecond, 3),
  });
} finally {
  await app.close();
  await Promise.all(receivers.map((r) => r.close()));
  await redis.stop();
}
