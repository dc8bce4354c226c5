import { Cluster, Redis } from 'ioredis';
import { bullPrefix, keySlot, KeySpace } from '@trailsight/core';
import { CounterRepository } from '@trailsight/detection';
import { type AccountRegion, MINUTE_MS } from '@trailsight/domain';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { EventPartitions } from '@trailsight/queue';
import { eventually, startApp, type AppProcess } from '../support/app-process.js';
import {
  expectedSeriesCounts,
  fetchTruth,
  storedSeriesCounts,
  describeDifference,
  total,
  type SeriesCounts,
} from '../support/ground-truth.js';
import { freePort } from '../support/redis-server.js';
import { waitCalls } from '../support/redis-replicated.js';
import { startRedisCluster, type ThrowawayCluster } from '../support/redis-cluster.js';
import { Report, check } from '../reliability/report.js';

/**
 * npm run test:cluster: Trailsight on a real Redis Cluster (three primaries, three replicas, from
 * the installed redis-server), api, poller and detector as processes with REDIS_CLUSTER_NODES and
 * three events partitions. Checks that the partitions sit on three primaries, that the counters
 * equal the simulated account's /truth exactly, that a spike becomes a finding, and that a primary
 * killed (SIGKILL) in the middle of ingest is replaced by its replica with the counters still
 * exact. One line per scenario, then one JSON line of totals; exit code 1 on any failure.
 */
const ADMIN_KEY = 'cluster-admin-key-0123456789abcdef';
const ACCOUNT = '444455556666';
const PARTITIONS = 3;
/** One region per events partition (of prefix-independent placement), so every partition is used. */
const REGIONS = ((): string[] => {
  const partitions = new EventPartitions({ redisPrefix: 'cl', eventQueuePartitions: PARTITIONS });
  const byPartition = new Map<string, string>();
  for (const region of [
    'us-east-1',
    'eu-west-1',
    'ap-southeast-2',
    'us-west-2',
    'eu-central-1',
    'ap-northeast-1',
    'sa-east-1',
  ])
    if (!byPartition.has(partitions.of({ accountId: ACCOUNT, region }).name))
      byPartition.set(partitions.of({ accountId: ACCOUNT, region }).name, region);
  return [...byPartition.values()];
})();
const SOURCES: AccountRegion[] = REGIONS.map((region) => ({ accountId: ACCOUNT, region }));
const EVENTS_PER_MINUTE = 100;
const LOOKUP_RATE = 20;
const BACKFILL_MINUTES = 100;
const FAILOVER_BACKFILL_MINUTES = 40;
const SPIKE_MINUTES_AGO = 25;

interface Stack {
  prefix: string;
  apps: AppProcess[];
  api: AppProcess;
  startedAt: number;
}

class ClusterTest {
  readonly report = new Report();
  failoversSurvived = 0;
  private cluster?: ThrowawayCluster;
  private client?: Cluster;
  private simulator?: Simulator;
  private simulatorUrl = '';
  private readonly running: AppProcess[] = [];
  private spiked?: { eventSource: string; eventName: string };

  async run(): Promise<void> {
    try {
      await this.report.scenario('cluster/setup', async (figures) => {
        this.cluster = await startRedisCluster(3);
        figures.nodes = this.cluster.servers.length;
        this.client = new Cluster(
          this.cluster.nodes.split(',').map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })),
        );
        await this.client.ping();
        this.simulator = createSimulator({
          seed: 16,
          accounts: [ACCOUNT],
          regions: REGIONS,
          eventsPerMinute: EVENTS_PER_MINUTE,
          rhythm: 'steady',
          rateLimit: LOOKUP_RATE,
        });
        this.spiked = this.plantSpike(this.simulator);
        this.simulatorUrl = (await this.simulator.server.start(0)).url;
      });
      if (!this.cluster) return;

      await this.report.scenario('cluster/partitions-on-three-primaries', async (figures) => {
        const partitions = new EventPartitions({ redisPrefix: 'cl', eventQueuePartitions: PARTITIONS });
        const owners = await Promise.all(
          partitions.queues.map(({ prefix }) => this.cluster!.primaryOf(keySlot(prefix))),
        );
        figures.primaries = new Set(owners).size;
        check(new Set(owners).size === PARTITIONS, `partitions on primaries ${owners.join(', ')}`);
        check(
          keySlot(partitions.queues[0].prefix) === keySlot(bullPrefix('cl')),
          'partition 0 keeps the shared prefix',
        );
      });

      const stack = await this.startStack('cl', BACKFILL_MINUTES);
      await this.report.scenario('cluster/exact-counts', async (figures) => {
        await this.expectExact(stack, BACKFILL_MINUTES, figures);
        figures.queues_used = await this.partitionsUsed('cl');
        check(figures.queues_used === PARTITIONS, `batches went to ${figures.queues_used} partitions of ${PARTITIONS}`);
        // Durable writes (REDIS_WAIT_TIMEOUT_MS, on by default) waited for the replicas.
        figures.waits = await this.waitsSent();
        check(figures.waits > 0, 'no WAIT reached a primary');
      });
      await this.report.scenario('cluster/spike-becomes-finding', async (figures) => {
        const spiked = this.spiked!;
        const found = await eventually(
          `a finding on ${spiked.eventName}`,
          async () => {
            const response = await this.call(stack.api, `/v1/findings?eventName=${spiked.eventName}&limit=50`);
            const items = (response.body as { items?: Array<{ id: string; eventName: string }> }).items ?? [];
            return items.find((item) => item.eventName === spiked.eventName);
          },
          180_000,
          1_000,
        );
        figures.finding = found.id;
        check((await this.call(stack.api, `/v1/findings/${found.id}`)).status === 200, 'the finding reads back');
      });
      await this.stopStack(stack);

      const failover = await this.startStack('fo', FAILOVER_BACKFILL_MINUTES);
      await this.report.scenario('cluster/primary-killed-mid-ingest', async (figures) => {
        const keys = new KeySpace('fo');
        const target = SOURCES[0];
        const victim = await this.cluster!.primaryOf(keySlot(keys.sourceStats(target)));
        const expectedEvents = FAILOVER_BACKFILL_MINUTES * EVENTS_PER_MINUTE;
        // Mid-ingest: some but far from all of that account-region's back-fill counted.
        await eventually(
          'ingest under way',
          async () => {
            const counted = Number((await this.client!.hget(keys.sourceStats(target), 'counted')) ?? 0);
            return counted > expectedEvents / 10 ? counted : undefined;
          },
          120_000,
          50,
        ).then((counted) => (figures.counted_at_kill = counted));
        const killedAt = Date.now();
        await this.cluster!.kill(victim);
        await this.cluster!.failedOver(victim);
        figures.promotion_seconds = Math.round((Date.now() - killedAt) / 100) / 10;
        await this.expectExact(failover, FAILOVER_BACKFILL_MINUTES, figures);
        for (const app of failover.apps) await app.healthy(30_000);
        check(
          (await this.call(failover.api, '/v1/findings?limit=5')).status === 200,
          'the api answers after the failover',
        );
        this.failoversSurvived++;
      });
      await this.stopStack(failover);
    } finally {
      await Promise.all(this.running.splice(0).map((app) => app.stop('SIGKILL')));
      this.client?.disconnect();
      await this.simulator?.server.stop();
      await this.cluster?.stop();
    }
  }

  /** WAITs the live nodes have run (INFO commandstats). */
  private async waitsSent(): Promise<number> {
    let waits = 0;
    for (const { port, child } of this.cluster!.servers) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const node = new Redis(port, '127.0.0.1');
      try {
        waits += await waitCalls(node);
      } finally {
        node.disconnect();
      }
    }
    return waits;
  }

  /** A 12x spike on the busiest write API of the first region, inside the back-fill, after the warm-up. */
  private plantSpike(simulator: Simulator): { eventSource: string; eventName: string } {
    const now = Date.now();
    const [busiest] = simulator.generator
      .apis()
      .filter((api) => !api.readOnly)
      .map((api) => ({
        ...api,
        rate: simulator.generator.expectedCalls(SOURCES[0], api.eventSource, api.eventName, now),
      }))
      .sort((a, b) => b.rate - a.rate);
    simulator.generator.injectAnomaly({
      kind: 'spike',
      eventSource: busiest.eventSource,
      eventName: busiest.eventName,
      factor: 12,
      minutes: 4,
      startMinute: Math.floor(now / MINUTE_MS) * MINUTE_MS - SPIKE_MINUTES_AGO * MINUTE_MS,
    });
    return { eventSource: busiest.eventSource, eventName: busiest.eventName };
  }

  private async startStack(prefix: string, backfillMinutes: number): Promise<Stack> {
    const env = async (): Promise<Record<string, string>> => ({
      PORT: String(await freePort()),
      REDIS_CLUSTER_NODES: this.cluster!.nodes,
      REDIS_PREFIX: prefix,
      EVENT_QUEUE_PARTITIONS: String(PARTITIONS),
      API_KEYS: ADMIN_KEY,
      LOG_LEVEL: 'log',
      CLOUDTRAIL_SOURCE: 'simulator',
      CLOUDTRAIL_ENDPOINT: this.simulatorUrl,
      AWS_ACCOUNTS: ACCOUNT,
      AWS_REGIONS: REGIONS.join(','),
      LOOKUP_EVENTS_RATE: String(LOOKUP_RATE),
      POLL_INTERVAL_SECONDS: '2',
      POLL_OVERLAP_MINUTES: '2',
      BACKFILL_DAYS: String(backfillMinutes / 1440),
      EVALUATION_INTERVAL_SECONDS: '5',
      EVALUATION_LATENESS_SECONDS: '5',
    });
    const startedAt = Date.now();
    const api = startApp('api', await env());
    const apps = [api, startApp('detector', await env()), startApp('poller', await env())];
    this.running.push(...apps);
    await Promise.all(apps.map((app) => app.healthy(60_000)));
    return { prefix, apps, api, startedAt };
  }

  private async stopStack(stack: Stack): Promise<void> {
    await Promise.all(stack.apps.map((app) => app.stop()));
    for (const app of stack.apps) this.running.splice(this.running.indexOf(app), 1);
  }

  /** Waits until the counters of the back-filled window equal /truth; records what was lost or counted twice. */
  private async expectExact(stack: Stack, backfillMinutes: number, figures: Record<string, number | string | boolean>) {
    const minute = stack.startedAt - (stack.startedAt % MINUTE_MS);
    const since = minute - (backfillMinutes - 2) * MINUTE_MS;
    const until = minute + MINUTE_MS - 1;
    await eventually(
      'the window to close',
      () => Promise.resolve(Date.now() > until + 3_000 ? true : undefined),
      120_000,
    );
    const rows = await fetchTruth(this.simulatorUrl, since, until);
    const expected = expectedSeriesCounts(rows);
    figures.events = rows.reduce((sum, row) => sum + row.calls, 0);
    let stored: SeriesCounts = new Map();
    const started = Date.now();
    await eventually(
      'counters equal to /truth',
      async () => {
        stored = await this.storedCounts(stack.prefix, since, until);
        return describeDifference(expected, stored) === '' ? true : undefined;
      },
      300_000,
      1_000,
    ).catch(() => undefined);
    // Overlapping re-reads go on: nothing may be counted twice meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    stored = await this.storedCounts(stack.prefix, since, until);
    figures.settle_seconds = Math.round((Date.now() - started) / 1000);
    let lost = 0;
    let doubled = 0;
    for (const key of new Set([...expected.keys(), ...stored.keys()])) {
      const difference = (expected.get(key) ?? 0) - (stored.get(key) ?? 0);
      if (difference > 0) lost += difference;
      else doubled -= difference;
    }
    figures.lost = lost;
    figures.double_counted = doubled;
    this.report.eventsLost += lost;
    this.report.eventsDoubleCounted += doubled;
    check(total(expected) > 0, 'the window holds events');
    check(lost === 0 && doubled === 0, describeDifference(expected, stored));
  }

  private async storedCounts(prefix: string, since: number, until: number): Promise<SeriesCounts> {
    const counters = new CounterRepository(this.client!, new KeySpace(prefix), {
      counterRetentionMinutes: 11_520,
      dedupeWindowMinutes: 1_440,
    });
    const all: SeriesCounts = new Map();
    for (const source of SOURCES)
      for (const [key, n] of storedSeriesCounts(source, await counters.readMinutes(source, since, until)))
        all.set(key, n);
    return all;
  }

  /** How many events partitions hold completed batches. */
  private async partitionsUsed(prefix: string): Promise<number> {
    const partitions = new EventPartitions({ redisPrefix: prefix, eventQueuePartitions: PARTITIONS });
    let used = 0;
    for (const queue of partitions.queues)
      if ((await this.client!.zcard(`${queue.prefix}:${queue.name}:completed`)) > 0) used++;
    return used;
  }

  private async call(api: AppProcess, path: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${api.port}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }
}

async function main(): Promise<boolean> {
  const test = new ClusterTest();
  try {
    await test.run();
  } catch (error) {
    process.stdout.write(`FAIL cluster/run -- ${error instanceof Error ? error.message : String(error)}\n`);
    test.report.results.push({ name: 'cluster/run', passed: false, seconds: 0, figures: {} });
  }
  const { scenarios, passed, events_lost, events_double_counted } = test.report.summary();
  const summary = { scenarios, passed, events_lost, events_double_counted, failovers_survived: test.failoversSurvived };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return (
    scenarios > 0 &&
    passed === scenarios &&
    events_lost === 0 &&
    events_double_counted === 0 &&
    test.failoversSurvived > 0
  );
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
