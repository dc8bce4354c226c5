import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CloudTrailClient, LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  CheckpointRepository,
  CloudTrailClientFactory,
  LOOKUP_EVENTS_PAGE_SIZE,
  LookupEventsSource,
  RejectsRepository,
  TokenBucketRepository,
  lookupEventsSettings,
} from '@trailsight/cloudtrail';
import { type AccountRegion } from '@trailsight/domain';
import { type SimulatorSourceStats } from '@trailsight/simulator';
import { KeySpace, loadConfig } from '@trailsight/core';
import { EventsQueueSink, JobProducer } from '@trailsight/queue';
import { progress, round } from './bench-support.js';

/** LookupEvents' real limit per account-region. */
export const API_RATE_PER_SECOND = 2;
/** What that limit allows: 2 requests/s x 50 events. */
export const API_CEILING_EVENTS_PER_S = API_RATE_PER_SECOND * LOOKUP_EVENTS_PAGE_SIZE;
/**
 * The simulated clock: a Wednesday 15:00 UTC, the traffic model's busiest minute, shifted so
 * that it is "now" when the run starts. With 6,000 calls/min the first live sweep alone (twice
 * the 15-minute overlap) holds 180,000 events: every page the poller reads is full, so the
 * ceiling it meets is the API's, not the data's.
 */
export const PEAK = Date.UTC(2026, 2, 4, 15, 0, 0);

export interface SimulatorProcess {
  url: string;
  /** CPU time of the simulator process so far, µs. */
  cpu(): Promise<number>;
  stats(): Promise<SimulatorSourceStats[]>;
  stop(): Promise<void>;
}

/** Starts bench/simulator.child.js in its own process and waits for its URL. */
export async function startSimulatorProcess(options: {
  accounts: readonly string[];
  region: string;
  eventsPerMinute: number;
  clockOffsetMs: number;
  cacheEvents: number;
}): Promise<SimulatorProcess> {
  const script = fileURLToPath(new URL('./simulator.child.js', import.meta.url));
  const child: ChildProcess = fork(script, [], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_SIM_ACCOUNTS: options.accounts.join(','),
      BENCH_SIM_REGIONS: options.region,
      BENCH_SIM_EVENTS_PER_MINUTE: String(options.eventsPerMinute),
      BENCH_SIM_RATE_LIMIT: String(API_RATE_PER_SECOND),
      BENCH_SIM_SEED: '7',
      BENCH_SIM_CLOCK_OFFSET_MS: String(options.clockOffsetMs),
      BENCH_SIM_CACHE_EVENTS: String(options.cacheEvents),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the simulator process exited with ${code}`)));
  });
  const ask = <T>(question: string, field: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(field in message)) return;
        child.off('message', onMessage);
        resolve(message[field] as T);
      };
      child.on('message', onMessage);
      child.send(question);
    });
  return {
    url,
    cpu: () => ask<number>('cpu', 'cpu'),
    stats: () => ask<SimulatorSourceStats[]>('stats', 'stats'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Completion time (performance.now()) and size of every page a client received. */
interface PageLog {
  times: number[];
  events: number[];
}

function recordPages(client: CloudTrailClient): PageLog {
  const log: PageLog = { times: [], events: [] };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      log.times.push(performance.now());
      log.events.push((result.output as LookupEventsCommandOutput).Events?.length ?? 0);
      return result;
    },
    { step: 'initialize', name: 'benchPageLog' },
  );
  return log;
}

/**
 * Events/s of one source between its first page completed at or after `from` and its first
 * page completed at or after `to`: whole page intervals, so a 500 ms cadence is not rounded to
 * the window. A source that stalled at the end is charged up to `end`.
 */
function rateOf(log: PageLog, from: number, to: number, end: number): number {
  const first = log.times.findIndex((t) => t >= from);
  if (first < 0) return 0;
  let last = log.times.findIndex((t) => t >= to);
  let until = last >= 0 ? log.times[last] : end;
  if (last < 0) last = log.times.length - 1;
  if (until <= log.times[first]) until = end;
  let events = 0;
  for (let i = first + 1; i <= last; i++) events += log.events[i];
  return (events / (until - log.times[first])) * 1000;
}

export interface PollResult {
  sources: number;
  /** Sum over the sources. */
  eventsPerSecond: number;
  /** eventsPerSecond over sources x 100 events/s. */
  fractionOfCeiling: number;
  /** The worst source's fraction. */
  minFraction: number;
  pagesPerSecond: number;
  /** Share of pages that were not full (the ceiling assumes full pages). */
  shortPages: number;
  throttled: number;
  /** LookupEvents failures other than throttling, and store (Redis) failures. */
  failedPolls: number;
  /** Throttles the simulator answered (its own count: a cross-check of `throttled`). */
  simulatorThrottled: number;
  /** CPU time over the window, in cores. */
  pollerCpu: number;
  simulatorCpu: number;
}

/**
 * Runs one LookupEventsSource per account against the simulator process, as PollerService
 * would (settings from loadConfig, the real EventsQueueSink and JobProducer into the throwaway Redis), lets
 * each read `warmupPages` pages, then measures `measureMs`.
 */
export async function benchPolling(
  redisUrl: string,
  simulator: SimulatorProcess,
  options: {
    accounts: readonly string[];
    region: string;
    clockOffsetMs: number;
    measureMs: number;
    warmupPages: number;
  },
): Promise<PollResult> {
  const prefix = `bench${Date.now() % 100_000}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    CLOUDTRAIL_SOURCE: 'simulator',
    CLOUDTRAIL_ENDPOINT: simulator.url,
    AWS_ACCOUNTS: options.accounts.join(','),
    AWS_REGIONS: options.region,
    LOOKUP_EVENTS_RATE: String(API_RATE_PER_SECOND),
  });
  const now = () => Date.now() + options.clockOffsetMs;
  const settings = { ...lookupEventsSettings(config), now };
  const redis = new Redis(redisUrl);
  const keys = new KeySpace(prefix);
  const jobs = new JobProducer(config);
  const producer = new EventsQueueSink(jobs, config);
  const factory = new CloudTrailClientFactory(config);
  const simulatorStatsBefore = await simulator.stats();
  const sources = options.accounts.map((accountId) => {
    const source: AccountRegion = { accountId, region: options.region };
    const client = factory.create(source);
    const log = recordPages(client);
    const runner = new LookupEventsSource(
      source,
      client,
      new TokenBucketRepository(redis, keys),
      new CheckpointRepository(redis, keys),
      producer,
      new RejectsRepository(redis, keys),
      settings,
    );
    return { source, client, log, runner };
  });
  for (const { runner } of sources) runner.start();
  try {
    const warmupDeadline = performance.now() + 30_000;
    while (sources.some(({ log }) => log.times.length < options.warmupPages)) {
      if (performance.now() > warmupDeadline) throw new Error('sources did not read their first pages within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cpuBefore = [process.cpuUsage(), await simulator.cpu()] as const;
    const from = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.measureMs));
    const to = performance.now();
    const cpuAfter = [process.cpuUsage(cpuBefore[0]), await simulator.cpu()] as const;
    // Every source's first page after the window, so each is measured over whole intervals.
    const lateDeadline = to + 3_000;
    while (sources.some(({ log }) => log.times.at(-1)! < to) && performance.now() < lateDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const end = performance.now();
    const rates = sources.map(({ log }) => rateOf(log, from, to, end));
    const eventsPerSecond = rates.reduce((sum, rate) => sum + rate, 0);
    let pages = 0;
    let short = 0;
    for (const { log } of sources) {
      log.times.forEach((t, i) => {
        if (t < from || t > to) return;
        pages++;
        if (log.events[i] < LOOKUP_EVENTS_PAGE_SIZE) short++;
      });
    }
    const stats = sources.map(({ runner }) => runner.stats());
    const simulatorStats = await simulator.stats();
    const throttledBefore = simulatorStatsBefore.reduce((sum, s) => sum + s.throttled, 0);
    const seconds = (to - from) / 1000;
    return {
      sources: sources.length,
      eventsPerSecond,
      fractionOfCeiling: eventsPerSecond / (sources.length * API_CEILING_EVENTS_PER_S),
      minFraction: Math.min(...rates) / API_CEILING_EVENTS_PER_S,
      pagesPerSecond: pages / seconds,
      shortPages: pages > 0 ? short / pages : 0,
      throttled: stats.reduce((sum, s) => sum + s.throttles, 0),
      failedPolls: stats.reduce((sum, s) => sum + s.errors + s.storeErrors, 0),
      simulatorThrottled: simulatorStats.reduce((sum, s) => sum + s.throttled, 0) - throttledBefore,
      pollerCpu: (cpuAfter[0].user + cpuAfter[0].system) / 1e6 / seconds,
      simulatorCpu: (cpuAfter[1] - cpuBefore[1]) / 1e6 / seconds,
    };
  } finally {
    await Promise.all(sources.map(({ runner }) => runner.stop()));
    for (const { client } of sources) client.destroy();
    await jobs.onModuleDestroy();
    await redis.quit();
  }
}

/** Report figures of a poll result, with a progress line. */
export function describePoll(label: string, result: PollResult): void {
  progress(
    `${label}: ${result.sources} account-region(s), ${round(result.eventsPerSecond)} events/s = ` +
      `${round(result.fractionOfCeiling, 3)} of the API ceiling (worst source ${round(result.minFraction, 3)}), ` +
      `${round(result.pagesPerSecond)} pages/s, ${round(result.shortPages * 100, 1)}% short pages, ` +
      `${result.throttled} throttled (simulator: ${result.simulatorThrottled}), ${result.failedPolls} failed; ` +
      `CPU poller ${round(result.pollerCpu)} cores, simulator ${round(result.simulatorCpu)} cores`,
  );
}

/** Nest's Logger prints every source's start-up line; a benchmark only wants its warnings. */
export function quietLogs(): void {
  Logger.overrideLogger(['warn', 'error']);
}
