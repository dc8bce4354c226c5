import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { SlimEvent } from '@trailsight/cloudtrail';
import { KeySpace } from '@trailsight/core';
import { CounterRepository, CountingBuffer, counterFields } from '@trailsight/detection';
import { bullPrefix, JobName, QueueName, workerConnectionOptions, type JobOf } from '@trailsight/queue';
import { progress, round } from './bench-support.js';

type BatchData = JobOf<typeof JobName.EventBatch>;

export interface CountBenchResult {
  count_events_per_s: number;
  queue_floor_events_per_s: number;
  count_ratio_vs_queue_floor: number;
  count_events: number;
}

/**
 * Detector throughput from the events queue to Redis counters, against a bare BullMQ worker
 * that drains the same jobs and only counts them in memory: same queue, same job sizes, same
 * concurrency, measured back to back in one run.
 */
export async function benchCounting(
  redisUrl: string,
  options: { events: number; batchSize: number; concurrency: number },
): Promise<CountBenchResult> {
  const batches = makeBatches(options.events, options.batchSize);
  const floor = await drain(redisUrl, 'floor', batches, options.concurrency, async (job) => {
    const counts = new Map<string, number>();
    for (const event of job.data.events) {
      for (const field of counterFields(event)) counts.set(field, (counts.get(field) ?? 0) + 1);
    }
    return Promise.resolve(counts.size);
  });
  progress(`queue floor: ${round(floor)} events/s`);

  const redis = new Redis(redisUrl);
  const counters = new CounterRepository(redis, new KeySpace('bench'), {
    counterRetentionMinutes: 8 * 1440,
    dedupeWindowMinutes: 1440,
  });
  const buffer = new CountingBuffer(counters);
  const ours = await drain(redisUrl, 'count', batches, options.concurrency, async (job) => {
    const result = await buffer.count(job.data.source, { id: job.id!, events: job.data.events });
    return result.counted;
  });
  await redis.quit();
  progress(`counting into Redis: ${round(ours)} events/s`);
  return {
    count_events_per_s: round(ours),
    queue_floor_events_per_s: round(floor),
    count_ratio_vs_queue_floor: round(ours / floor, 3),
    count_events: options.events,
  };
}

async function drain(
  redisUrl: string,
  label: string,
  batches: BatchData[],
  concurrency: number,
  handler: (job: Job<BatchData>) => Promise<number>,
): Promise<number> {
  const prefix = bullPrefix(`bench-${label}-${Date.now()}`);
  const connection = workerConnectionOptions(redisUrl);
  const queue = new Queue<BatchData>(QueueName.Events, { connection, prefix });
  for (let i = 0; i < batches.length; i += 200) {
    await queue.addBulk(
      batches
        .slice(i, i + 200)
        .map((data, j) => ({ name: JobName.EventBatch, data, opts: { jobId: `b-${i + j}`, removeOnComplete: true } })),
    );
  }
  const total = batches.reduce((sum, batch) => sum + batch.events.length, 0);
  let done = 0;
  const started = performance.now();
  const finished = new Promise<number>((resolve) => {
    const worker = new Worker<BatchData>(QueueName.Events, handler, { connection, prefix, concurrency });
    worker.on('completed', (job) => {
      done += job.data.events.length;
      if (done === total) {
        const seconds = (performance.now() - started) / 1000;
        void worker.close().then(() => resolve(total / seconds));
      }
    });
  });
  const rate = await finished;
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

/** Synthetic slim events spread over 1,000 APIs, 50 identities and 60 minutes, 3% errors. */
function makeBatches(events: number, batchSize: number): BatchData[] {
  const source = { accountId: '123456789012', region: 'us-east-1' };
  const start = Date.now() - 60 * 60_000;
  const batches: BatchData[] = [];
  let batch: SlimEvent[] = [];
  for (let i = 0; i < events; i++) {
    const api = (i * 7919) % 1000;
    batch.push({
      id: `ev-${i}`,
      t: start + Math.floor((i / events) * 60 * 60_000),
      src: `service${api % 40}.amazonaws.com`,
      name: `${api % 3 === 0 ? 'Describe' : 'Put'}Thing${api}`,
      ro: api % 3 === 0,
      err: i % 33 === 0 ? 'AccessDenied' : undefined,
      arn: `arn:aws:iam::123456789012:user/user${i % 50}`,
      ua: `aws-cli/2.${i % 7}`,
    });
    if (batch.length === batchSize) {
      batches.push({ source, origin: 'bench', events: batch });
      batch = [];
    }
  }
  if (batch.length > 0) batches.push({ source, origin: 'bench', events: batch });
  return batches;
}
