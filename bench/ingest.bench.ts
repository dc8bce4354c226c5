import { startRedis } from '../test/support/redis-server.js';
import { printHeadline, progress } from './bench-support.js';
import { benchCounting } from './count-events.bench.js';

/**
 * npm run bench:ingest — poller throughput against the simulated account's real 2 req/s,
 * the same for a fleet of 50 account-regions, and detector counting throughput against a bare
 * BullMQ floor. Every figure is measured in this run on a throwaway redis-server.
 */
const redis = await startRedis();
try {
  progress(`throwaway redis at ${redis.url}`);
  const counting = await benchCounting(redis.url, {
    events: Number(process.env.BENCH_COUNT_EVENTS ?? 200_000),
    batchSize: 500,
    concurrency: 16,
  });
  printHeadline({ ...counting });
} finally {
  await redis.stop();
}
