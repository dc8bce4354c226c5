import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { RejectsRepository, toSlimEvent } from '@trailsight/cloudtrail';
import { TrafficGenerator } from '@trailsight/simulator';
import { type AccountRegion, type SlimEvent } from '@trailsight/domain';
import { bullPrefix, KeySpace, workerConnectionOptions } from '@trailsight/core';
import { counterFields } from '@trailsight/domain';
import { CounterRepository, CountingBuffer, EventCountingService } from '@trailsight/detection';
import { JobName, QueueName, type JobOf } from '@trailsight/queue';
import { progress, round } from './bench-support.js';

export type BatchData = JobOf<typeof JobName.EventBatch>;

export interface CountBenchResult {
  count_events_per_s: number;
  queue_floor_events_per_s: number;
  count_ratio_vs_queue_floor: number;
  /** Median, lowest and highest of the per-round ratios (the machine is shared: noise). */
  count_ratio_median: number;
  count_ratio_min: number;
  count_ratio_max: number;
  count_events: number;
  count_rounds: number;
}

/**
 * Detector throughput from the events queue to Redis counters (the detector's own path:
 * EventCountingService, so validation, CountingBuffer and the counting script), against a bare
 * BullMQ worker that drains the same jobs and only counts them in memory: same queue, same
 * jobs, same concurrency.
 *
 * After an unmeasured warm-up of both (JIT, connections), floor and counting alternate for
 * `rounds` rounds so both see the same noise. The headline rates are each one's best round
 * (the least disturbed, as timeit's minimum), the ratio theirs; the per-round ratios give the
 * spread. Each round counts into a fresh key space: the exactly-once marks of an earlier round
 * would otherwise turn its events into cheap duplicates.
 */
export async function benchCounting(
  redisUrl: string,
  batches: BatchData[],
  options: { concurrency: number; rounds: number; label: string },
): Promise<CountBenchResult> {
  const total = batches.reduce((sum, batch) => sum + batch.events.length, 0);
  const admin = new Redis(redisUrl);
  const floorHandler = async (job: Job<BatchData>) => {
    const counts = new Map<string, number>();
    for (const event of job.data.events) {
      for (const field of counterFields(event)) counts.set(field, (counts.get(field) ?? 0) + 1);
    }
    return Promise.resolve(counts.size);
  };
  const countInto = async (keySpace: string, jobs: BatchData[], label: string) => {
    const keys = new KeySpace(keySpace);
    const redis = new Redis(redisUrl);
    const counters = new CounterRepository(redis, keys, {
      counterRetentionMinutes: 8 * 1440,
      dedupeWindowMinutes: 1440,
    });
    const service = new EventCountingService(new CountingBuffer(counters), new RejectsRepository(redis, keys));
    let counted = 0;
    const rate = await drain(redisUrl, label, jobs, options.concurrency, async (job) => {
      const result = await service.countBatch(job.id!, job.data);
      counted += result.counted;
      return result.counted;
    });
    await redis.quit();
    const expected = jobs.reduce((sum, batch) => sum + batch.events.length, 0);
    if (counted !== expected) throw new Error(`${label}: counted ${counted} of ${expected} events`);
    return rate;
  };

  const warmup = batches.slice(0, Math.min(batches.length, 100));
  await drain(redisUrl, `${options.label} warm-up floor`, warmup, options.concurrency, floorHandler);
  await countInto('benchwarm', warmup, `${options.label} warm-up count`);
  await admin.flushall();

  const floors: number[] = [];
  const counts: number[] = [];
  const ratios: number[] = [];
  for (let r = 1; r <= options.rounds; r++) {
    const floor = await drain(redisUrl, `${options.label} floor`, batches, options.concurrency, floorHandler);
    const ours = await countInto(`bench${r}`, batches, `${options.label} count`);
    await admin.flushall();
    floors.push(floor);
    counts.push(ours);
    ratios.push(ours / floor);
    progress(
      `${options.label}, round ${r}: floor ${round(floor)} events/s, counting ${round(ours)} events/s, ` +
        `ratio ${round(ours / floor, 3)}`,
    );
  }
  await admin.quit();
  const best = Math.max(...counts);
  const bestFloor = Math.max(...floors);
  return {
    count_events_per_s: round(best),
    queue_floor_events_per_s: round(bestFloor),
    count_ratio_vs_queue_floor: round(best / bestFloor, 3),
    count_ratio_median: round(median(ratios), 3),
    count_ratio_min: round(Math.min(...ratios), 3),
    count_ratio_max: round(Math.max(...ratios), 3),
    count_events: total,
    count_rounds: options.rounds,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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
  const fillStarted = performance.now();
  for (let i = 0; i < batches.length; i += 200) {
    await queue.addBulk(
      batches
        .slice(i, i + 200)
        .map((data, j) => ({ name: JobName.EventBatch, data, opts: { jobId: `b-${i + j}`, removeOnComplete: true } })),
    );
  }
  const total = batches.reduce((sum, batch) => sum + batch.events.length, 0);
  progress(`${label}: ${batches.length} jobs queued in ${round((performance.now() - fillStarted) / 1000)} s`);
  let done = 0;
  const probe = new Redis(redisUrl);
  const redisCpuBefore = await redisCpu(probe);
  const cpuBefore = process.cpuUsage();
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
  const seconds = total / rate;
  const cpu = process.cpuUsage(cpuBefore);
  const redisCores = (await redisCpu(probe)) - redisCpuBefore;
  if (process.env.BENCH_DEBUG) {
    const stats = await probe.info('commandstats');
    progress(
      stats
        .split('\n')
        .filter((l) => /evalsha|smismember|sadd|hincrby|bzpopmin|blmove/.test(l))
        .join(' ; '),
    );
    await probe.config('RESETSTAT');
  }
  await probe.quit();
  progress(
    `${label}: ${round(seconds, 2)} s, CPU: bench process ${round((cpu.user + cpu.system) / 1e6 / seconds)} cores, ` +
      `redis ${round(redisCores / seconds)} cores`,
  );
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

/** redis-server's CPU time so far, seconds (INFO cpu). */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * The worst case: synthetic slim events over 1,000 APIs, two thirds of them writes (three
 * counter fields each), every event with its own identity and user agent (so every write adds
 * three fields of its own), spread over the last 60 minutes, 3% errors; UUID event ids as
 * CloudTrail's. Batches per account-region, interleaved as in realisticBatches.
 */
export function syntheticBatches(events: number, batchSize: number, accounts: readonly string[]): BatchData[] {
  const start = Date.now() - 60 * 60_000;
  const perSource = Math.ceil(events / accounts.length);
  const streams = accounts.map((accountId) => {
    const slim: SlimEvent[] = [];
    for (let i = 0; i < perSource; i++) {
      const api = (i * 7919) % 1000;
      const event: SlimEvent = {
        eventId: randomUUID(),
        eventTimeMs: start + Math.floor((i / perSource) * 60 * 60_000),
        eventSource: `service${api % 40}.amazonaws.com`,
        eventName: `${api % 3 === 0 ? 'Describe' : 'Put'}Thing${api}`,
        readOnly: api % 3 === 0,
        identity: `arn:aws:iam::${accountId}:user/user${i}`,
        userAgent: `aws-cli/2.${i} Python/3.11.6 Linux/6.1 exe/x86_64`,
      };
      if (i % 33 === 0) event.errorCode = 'AccessDenied';
      slim.push(event);
    }
    return { source: { accountId, region: 'us-east-1' }, slim };
  });
  return interleave(streams, perSource, batchSize);
}

/** Batches of `batchSize` per account-region, round robin over the account-regions. */
function interleave(streams: { source: AccountRegion; slim: SlimEvent[] }[], perSource: number, batchSize: number) {
  const batches: BatchData[] = [];
  for (let offset = 0; offset < perSource; offset += batchSize) {
    for (const { source, slim } of streams) {
      const batch = slim.slice(offset, offset + batchSize);
      if (batch.length > 0) batches.push({ source, origin: 'bench', events: batch });
    }
  }
  return batches;
}

/**
 * What the poller fleet enqueues at its ceiling: the simulator's own traffic (Zipf-skewed APIs,
 * ~80% reads, per-account identities and their user agents, 3% errors) for `sources`
 * account-regions at the peak minute `peakMinute`, read newest first in batches of `batchSize`
 * per account-region, the account-regions interleaved as concurrent pollers enqueue them.
 * Event times are moved to the minute before now, inside the counters' retention.
 */
export function realisticBatches(options: {
  events: number;
  batchSize: number;
  accounts: readonly string[];
  region: string;
  peakMinute: number;
}): BatchData[] {
  const { events, batchSize, accounts, region, peakMinute } = options;
  const generator = new TrafficGenerator({ seed: 7, accounts, regions: [region], eventsPerMinute: 6_000 });
  const shift = Math.floor(Date.now() / 60_000) * 60_000 - 60_000 - peakMinute;
  const perSource = Math.ceil(events / accounts.length);
  const streams = accounts.map((accountId) => {
    const source: AccountRegion = { accountId, region };
    const slim: SlimEvent[] = [];
    for (let minute = peakMinute; slim.length < perSource; minute -= 60_000) {
      const records = generator.eventsForMinute(source, minute);
      for (let i = records.length - 1; i >= 0 && slim.length < perSource; i--) {
        const event = toSlimEvent(records[i]);
        event.eventTimeMs += shift;
        slim.push(event);
      }
    }
    return { source, slim };
  });
  return interleave(streams, perSource, batchSize);
}
