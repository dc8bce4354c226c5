import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { KeySpace, type RedisClient } from '@trailsight/core';
import { CounterRepository, CountingBuffer } from '@trailsight/detection';
import type { AccountRegion, SlimEvent } from '@trailsight/domain';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { replicasOnline, startReplicatedRedis, waitCalls } from '../test/support/redis-replicated.js';
import { printHeadline, progress, round } from './bench-support.js';

/**
 * What durable writes (REDIS_WAIT_TIMEOUT_MS, `WAIT 1` after each counting flush) cost the
 * detector's counting path: CountingBuffer and the counting script, with WAIT on (1000 ms) and
 * off (0), on a single Redis with one replica and on a cluster of three primaries with a replica
 * each, in the same run. Rounds alternate off and on (in turn first) so both see the same noise; each round
 * counts fresh events into a fresh key space. Headline: each one's best round, and the ratios.
 */
const SOURCES = 24;
const EVENTS_PER_BATCH = 100;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 2_000);
/** Jobs in flight, as a detector with EVENT_WORKER_CONCURRENCY 16. */
const CONCURRENCY = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WAIT_TIMEOUT_MS = 1_000;

const sources: AccountRegion[] = Array.from({ length: SOURCES }, (_, i) => ({
  accountId: String(100_000_000_000 + i),
  region: i % 2 === 0 ? 'us-east-1' : 'eu-west-1',
}));

function batches(): { source: AccountRegion; id: string; events: SlimEvent[] }[] {
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
  return Array.from({ length: BATCHES }, (_, b) => ({
    source: sources[b % SOURCES],
    id: randomUUID(),
    events: Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
      eventId: randomUUID(),
      eventTimeMs: minute + ((b * EVENTS_PER_BATCH + i) % 60) * 1_000,
      eventSource: 'ec2.amazonaws.com',
      eventName: ['RunInstances', 'TerminateInstances', 'CreateTags'][i % 3],
      readOnly: false,
      identity: `arn:aws:iam::123456789012:user/u${i % 7}`,
      userAgent: 'aws-cli/2.15',
      ...(i % 11 === 0 ? { errorCode: 'AccessDenied' } : {}),
    })),
  }));
}

/**
 * Events per second counting `BATCHES` batches, CONCURRENCY at a time, through one CountingBuffer,
 * and the median time a batch waits for its count (what a job's acknowledgement waits).
 */
async function countingRate(
  client: RedisClient,
  keySpace: string,
  waitTimeoutMs: number,
): Promise<{ rate: number; medianMs: number }> {
  const counters = new CounterRepository(client, new KeySpace(keySpace), {
    counterRetentionMinutes: 8 * 1440,
    dedupeWindowMinutes: 1440,
    redisWaitTimeoutMs: waitTimeoutMs,
  });
  const buffer = new CountingBuffer(counters);
  const work = batches();
  let next = 0;
  let counted = 0;
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < work.length) {
        const { source, id, events } = work[next++];
        // Not `counted += await ...`: that reads `counted` before the await.
        const sent = performance.now();
        const result = await buffer.count(source, { id, events });
        latencies.push(performance.now() - sent);
        counted += result.counted;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (counted !== BATCHES * EVENTS_PER_BATCH) throw new Error(`counted ${counted} of ${BATCHES * EVENTS_PER_BATCH}`);
  latencies.sort((a, b) => a - b);
  return { rate: counted / seconds, medianMs: latencies[latencies.length >> 1] };
}

async function compare(label: string, client: RedisClient, waits: () => Promise<number>) {
  await countingRate(client, `${label}-warm`, 0);
  await countingRate(client, `${label}-warm2`, WAIT_TIMEOUT_MS);
  const off: number[] = [];
  const on: number[] = [];
  const offMs: number[] = [];
  const onMs: number[] = [];
  const run = async (into: number[], intoMs: number[], keySpace: string, timeoutMs: number) => {
    const { rate, medianMs } = await countingRate(client, keySpace, timeoutMs);
    into.push(rate);
    intoMs.push(medianMs);
  };
  for (let r = 1; r <= ROUNDS; r++) {
    // Which goes first alternates: neither always meets the emptier Redis.
    if (r % 2 === 0) await run(off, offMs, `${label}-off${r}`, 0);
    const before = await waits();
    await run(on, onMs, `${label}-on${r}`, WAIT_TIMEOUT_MS);
    const sent = (await waits()) - before;
    if (r % 2 === 1) await run(off, offMs, `${label}-off${r}`, 0);
    // A WAIT per flush: without them the figure would not measure anything.
    if (sent === 0) throw new Error(`${label}: no WAIT was sent with REDIS_WAIT_TIMEOUT_MS ${WAIT_TIMEOUT_MS}`);
    progress(
      `${label}, round ${r}: off ${round(off[r - 1])} events/s, on ${round(on[r - 1])} events/s ` +
        `(${sent} WAITs), ratio ${round(on[r - 1] / off[r - 1], 3)}; median batch ${round(offMs[r - 1])} ms off, ` +
        `${round(onMs[r - 1])} ms on`,
    );
  }
  const bestOff = Math.max(...off);
  const bestOn = Math.max(...on);
  // Per-round ratios: the machine is shared, so their spread says how much of a difference is noise.
  const ratios = on.map((value, i) => value / off[i]).sort((a, b) => a - b);
  return {
    [`${label}_wait_off_events_per_s`]: round(bestOff),
    [`${label}_wait_on_events_per_s`]: round(bestOn),
    [`${label}_wait_ratio`]: round(bestOn / bestOff, 3),
    [`${label}_wait_ratio_median`]: round(median(ratios), 3),
    [`${label}_batch_ms_off_median`]: round(median(offMs)),
    [`${label}_batch_ms_on_median`]: round(median(onMs)),
    [`${label}_wait_ratio_min`]: round(ratios[0], 3),
    [`${label}_wait_ratio_max`]: round(ratios[ratios.length - 1], 3),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function main(): Promise<void> {
  progress(
    `${BATCHES} batches of ${EVENTS_PER_BATCH} events over ${SOURCES} account-regions, ${CONCURRENCY} in flight, ${ROUNDS} rounds`,
  );
  const single = await startReplicatedRedis({ direct: true });
  const singleClient = new Redis(single.primary.url);
  let singleFigures: Record<string, number>;
  try {
    singleFigures = await compare('single', singleClient, () => waitCalls(singleClient));
  } finally {
    singleClient.disconnect();
    await single.stop();
  }

  const cluster = await startRedisCluster(3);
  const ports = cluster.servers.map((server) => server.port);
  await replicasOnline(ports);
  const clusterClient = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
  const nodes = ports.map((port) => new Redis(port, '127.0.0.1'));
  let clusterFigures: Record<string, number>;
  try {
    await new Promise((resolve) => clusterClient.once('ready', resolve));
    const allWaits = async () => (await Promise.all(nodes.map(waitCalls))).reduce((a, b) => a + b, 0);
    clusterFigures = await compare('cluster', clusterClient, allWaits);
  } finally {
    for (const node of nodes) node.disconnect();
    clusterClient.disconnect();
    await cluster.stop();
  }
  printHeadline({
    events_per_round: BATCHES * EVENTS_PER_BATCH,
    rounds: ROUNDS,
    wait_timeout_ms: WAIT_TIMEOUT_MS,
    ...singleFigures,
    ...clusterFigures,
  });
}

await main();
