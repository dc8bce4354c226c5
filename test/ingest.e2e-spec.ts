import { Redis } from 'ioredis';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { type AccountRegion, MINUTE_MS } from '@trailsight/domain';
import { KeySpace } from '@trailsight/core';
import { CounterRepository } from '@trailsight/detection';
import { eventually, startApp, type AppProcess } from './support/app-process.js';
import {
  describeDifference,
  expectedSeriesCounts,
  fetchTruth,
  storedSeriesCounts,
  total,
  type SeriesCounts,
} from './support/ground-truth.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';

/**
 * Poller and detector as separate processes, against a throwaway Redis and the simulated account:
 * the per-minute counters must equal the simulator's ground truth exactly. The history is dense
 * (10 account-regions, 20 minutes of back-fill, over 100,000 events), the simulator allows 20
 * LookupEvents requests/s per account-region while the pollers ask for 30 (so they are throttled
 * when the machine lets them run at that pace, and 30 requests are throttled by fault injection in
 * any case), and each poll re-reads the last 2 minutes (so most events are read twice).
 */
const SCENARIO_TIMEOUT_MS = 420_000;
const ACCOUNTS = ['111111111111', '222222222222'];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const SOURCES: AccountRegion[] = ACCOUNTS.flatMap((accountId) => REGIONS.map((region) => ({ accountId, region })));
const BACKFILL_MINUTES = 20;

let redis: ThrowawayRedis;
let client: Redis;
let simulator: Simulator;
let simulatorUrl: string;
const running: AppProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  // Steady traffic: on the daily rhythm this window held 98,000 events at 19:30 UTC and would hold
  // a fifth of that at night. 10 account-regions x 19 minutes x 600 = 114,000, whatever the hour.
  simulator = createSimulator({
    seed: 7,
    accounts: ACCOUNTS,
    regions: REGIONS,
    eventsPerMinute: 600,
    rhythm: 'steady',
    rateLimit: 20,
  });
  simulatorUrl = (await simulator.server.start(0)).url;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop('SIGKILL')));
});

afterAll(async () => {
  await client?.quit();
  await simulator?.server.stop();
  await redis?.stop();
});

async function launch(app: 'poller' | 'detector', prefix: string): Promise<AppProcess> {
  const process = startApp(app, {
    PORT: String(await freePort()),
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'log',
    CLOUDTRAIL_SOURCE: 'simulator',
    CLOUDTRAIL_ENDPOINT: simulatorUrl,
    AWS_ACCOUNTS: ACCOUNTS.join(','),
    AWS_REGIONS: REGIONS.join(','),
    LOOKUP_EVENTS_RATE: '30',
    POLL_INTERVAL_SECONDS: '1',
    POLL_OVERLAP_MINUTES: '2',
    BACKFILL_DAYS: String(BACKFILL_MINUTES / 1440),
  });
  running.push(process);
  await process.healthy();
  return process;
}

/** The minutes every scenario checks: whole minutes inside the back-fill, up to the one we start in. */
function windowFrom(startedAt: number): { since: number; until: number } {
  const since = startedAt - (startedAt % MINUTE_MS) - (BACKFILL_MINUTES - 2) * MINUTE_MS;
  const until = startedAt - (startedAt % MINUTE_MS) + MINUTE_MS - 1;
  return { since, until };
}

async function storedCounts(prefix: string, since: number, until: number): Promise<SeriesCounts> {
  const counters = new CounterRepository(client, new KeySpace(prefix), {
    counterRetentionMinutes: 11_520,
    dedupeWindowMinutes: 1_440,
  });
  const all: SeriesCounts = new Map();
  for (const source of SOURCES) {
    for (const [key, n] of storedSeriesCounts(source, await counters.readMinutes(source, since, until)))
      all.set(key, n);
  }
  return all;
}

async function truthFor(since: number, until: number): Promise<{ expected: SeriesCounts; events: number }> {
  const rows = await fetchTruth(simulatorUrl, since, until);
  return { expected: expectedSeriesCounts(rows), events: rows.reduce((sum, row) => sum + row.calls, 0) };
}

/** Waits until the counters equal the truth; then, after more overlapping re-reads, checks they still do. */
async function expectExactCounts(prefix: string, since: number, until: number): Promise<void> {
  const { expected, events } = await eventually('the window to close', async () =>
    Date.now() > until + 3_000 ? truthFor(since, until) : undefined,
  );
  expect(events).toBeGreaterThanOrEqual(100_000);
  let difference = '';
  await eventually(
    'counters equal to the ground truth',
    async () => {
      difference = describeDifference(expected, await storedCounts(prefix, since, until));
      return difference === '' ? true : undefined;
    },
    240_000,
    1_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${difference}`);
  });
  // Several more polls re-read the overlap: nothing may be counted twice.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  expect(describeDifference(expected, await storedCounts(prefix, since, until))).toBe('');
  expect(total(expected)).toBeGreaterThan(0);
}

async function duplicatesSkipped(prefix: string): Promise<number> {
  const keys = new KeySpace(prefix);
  let duplicates = 0;
  for (const source of SOURCES) duplicates += Number(await client.hget(keys.sourceStats(source), 'duplicates'));
  return duplicates;
}

async function throttledSoFar(): Promise<number> {
  const stats = (await (await fetch(`${simulatorUrl}/stats`)).json()) as { sources: Array<{ throttled: number }> };
  return stats.sources.reduce((sum, source) => sum + source.throttled, 0);
}

describe('ingest end to end: poller and detector processes, real Redis, simulated account', () => {
  it(
    'counts 100,000+ events exactly once through throttling and overlapping re-reads, parking bad records',
    async () => {
      const prefix = 'e2e-one';
      const throttledBefore = await throttledSoFar();
      const startedAt = Date.now();
      const detector = await launch('detector', prefix);
      const poller = await launch('poller', prefix);
      // Three unusable events on each of 5 pages: not in the ground truth, so counts stay exact.
      // And 30 throttled requests whatever the machine's pace: a poller slowed by a loaded machine
      // may never outrun the 20 requests/s.
      for (const fault of [
        { kind: 'bad-records', count: 5 },
        { kind: 'throttle', count: 30 },
      ]) {
        const added = await fetch(`${simulatorUrl}/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(fault),
        });
        expect(added.status).toBe(201);
      }
      const { since, until } = windowFrom(startedAt);
      await expectExactCounts(prefix, since, until);

      expect(await throttledSoFar()).toBeGreaterThan(throttledBefore);
      expect(await duplicatesSkipped(prefix)).toBeGreaterThan(0);

      const keys = new KeySpace(prefix);
      const rejectCounts = await client.hgetall(keys.rejectCounts());
      for (const reason of ['malformed-json', 'missing-field', 'not-an-object']) {
        expect(Number(rejectCounts[reason])).toBeGreaterThanOrEqual(5);
        // Logged once per reason, not once per record.
        expect(poller.output().split(`rejected input (${reason})`).length - 1).toBe(1);
      }
      const parked = await client.xrange(keys.parkedRejects(), '-', '+');
      expect(parked.length).toBeGreaterThanOrEqual(15);
      // Nothing crashed on the way.
      await poller.healthy(1_000);
      await detector.healthy(1_000);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'stays exact when a detector is killed (SIGKILL) mid-batch and restarted',
    async () => {
      const prefix = 'e2e-kill';
      const startedAt = Date.now();
      const keys = new KeySpace(prefix);
      const detector = await launch('detector', prefix);
      await launch('poller', prefix);
      const countedSoFar = async () => {
        let counted = 0;
        for (const source of SOURCES) counted += Number(await client.hget(keys.sourceStats(source), 'counted'));
        return counted;
      };
      await eventually('the detector to be counting', async () => ((await countedSoFar()) > 10_000 ? true : undefined));
      await detector.stop('SIGKILL');
      await launch('detector', prefix);

      const { since, until } = windowFrom(startedAt);
      await expectExactCounts(prefix, since, until);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'stays exact with two poller and two detector replicas',
    async () => {
      const prefix = 'e2e-replicas';
      const startedAt = Date.now();
      await Promise.all([
        launch('detector', prefix),
        launch('detector', prefix),
        launch('poller', prefix),
        launch('poller', prefix),
      ]);
      const { since, until } = windowFrom(startedAt);
      await expectExactCounts(prefix, since, until);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
