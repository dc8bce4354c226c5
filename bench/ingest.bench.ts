import { startRedis } from '../test/support/redis-server.js';
import { printHeadline, progress, round } from './bench-support.js';
import { benchCounting, realisticBatches, syntheticBatches } from './count-events.bench.js';
import { PEAK, benchPolling, describePoll, quietLogs, startSimulatorProcess } from './poll.bench.js';

/**
 * npm run bench:ingest — poller throughput against the simulated account's real 2 req/s,
 * the same for a fleet of 50 account-regions, and detector counting throughput against a bare
 * BullMQ floor. Every figure is measured in this run on a throwaway redis-server; the
 * simulator runs in its own process (bench/simulator.child.ts). Progress goes to stderr, the
 * figures to stdout as one JSON line, the last.
 *
 * Knobs (env, for investigating; the defaults are the benchmark): BENCH_FLEET (50),
 * BENCH_SINGLE_MS (20000), BENCH_FLEET_MS (30000), BENCH_SIM_CACHE_EVENTS (2 x fleet x 6,000;
 * 100000 reproduces the simulator's default and its thrashing), BENCH_COUNT_EVENTS (400000),
 * BENCH_COUNT_ROUNDS (3), BENCH_COUNT_CONCURRENCY (16, the detector's default),
 * BENCH_COUNT_SOURCES (the fleet's 50), BENCH_SKIP_SINGLE / _FLEET / _COUNT / _WORST=1,
 * BENCH_DEBUG=1 (Redis command stats per drain).
 */
const env = process.env;
const FLEET = Number(env.BENCH_FLEET ?? 50);
const REGION = 'us-east-1';
const EVENTS_PER_MINUTE = 6_000;
const accounts = Array.from({ length: FLEET }, (_, i) => String(200000000000 + i));
const clockOffsetMs = PEAK - Date.now();

quietLogs();
const redis = await startRedis();
const figures: Record<string, unknown> = {};
try {
  progress(`throwaway redis at ${redis.url}`);
  const simulator = await startSimulatorProcess({
    accounts,
    region: REGION,
    eventsPerMinute: EVENTS_PER_MINUTE,
    clockOffsetMs,
    // Every source reads its own current minute (6,000 events at the peak): the cache must hold
    // one minute per account-region, or each page regenerates a whole minute to serve 50 events.
    cacheEvents: Number(env.BENCH_SIM_CACHE_EVENTS ?? Math.max(100_000, 2 * FLEET * EVENTS_PER_MINUTE)),
  });
  try {
    progress(`simulator process at ${simulator.url}`);
    if (env.BENCH_SKIP_SINGLE !== '1') {
      const single = await benchPolling(redis.url, simulator, {
        accounts: accounts.slice(0, 1),
        region: REGION,
        clockOffsetMs,
        measureMs: Number(env.BENCH_SINGLE_MS ?? 20_000),
        warmupPages: 3,
      });
      describePoll('one account-region', single);
      Object.assign(figures, {
        poller_events_per_s: round(single.eventsPerSecond),
        poller_fraction_of_api_ceiling: round(single.fractionOfCeiling, 3),
        poller_failed_polls: single.failedPolls,
        poller_throttled: single.throttled,
      });
    }
    if (env.BENCH_SKIP_FLEET !== '1') {
      const fleet = await benchPolling(redis.url, simulator, {
        accounts,
        region: REGION,
        clockOffsetMs,
        measureMs: Number(env.BENCH_FLEET_MS ?? 30_000),
        warmupPages: 3,
      });
      describePoll('fleet', fleet);
      Object.assign(figures, {
        fleet_events_per_s: round(fleet.eventsPerSecond),
        fleet_fraction_of_api_ceiling: round(fleet.fractionOfCeiling, 3),
        fleet_min_source_fraction: round(fleet.minFraction, 3),
        fleet_failed_polls: fleet.failedPolls,
        fleet_throttled: fleet.throttled,
        fleet_poller_cpu_cores: round(fleet.pollerCpu),
        fleet_simulator_cpu_cores: round(fleet.simulatorCpu),
      });
    }
  } finally {
    await simulator.stop();
  }
  if (env.BENCH_SKIP_COUNT !== '1') {
    const events = Number(env.BENCH_COUNT_EVENTS ?? 400_000);
    const rounds = Number(env.BENCH_COUNT_ROUNDS ?? 3);
    const concurrency = Number(env.BENCH_COUNT_CONCURRENCY ?? 16);
    const countAccounts = accounts.slice(0, Number(env.BENCH_COUNT_SOURCES ?? accounts.length));
    const batches = realisticBatches({
      events,
      batchSize: 500,
      accounts: countAccounts,
      region: REGION,
      peakMinute: PEAK,
    });
    const counting = await benchCounting(redis.url, batches, { concurrency, rounds, label: 'realistic events' });
    Object.assign(figures, counting);
    if (env.BENCH_SKIP_WORST !== '1') {
      const worst = await benchCounting(redis.url, syntheticBatches(events, 500, countAccounts), {
        concurrency,
        rounds,
        label: 'worst case (synthetic)',
      });
      Object.assign(figures, {
        count_worst_case_events_per_s: worst.count_events_per_s,
        count_worst_case_ratio_vs_queue_floor: worst.count_ratio_vs_queue_floor,
        count_worst_case_ratio_median: worst.count_ratio_median,
      });
    }
  }
  printHeadline(figures);
} finally {
  await redis.stop();
}
