import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
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
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * npm run test:cluster: Trailsight on a real Redis Cluster (three primaries, three replicas, from
 * the installed redis-server), api, poller and detector as processes with REDIS_CLUSTER_NODES and
 * three events partitions, two pollers and two detectors. Checks that the partitions sit on three
 * primaries; that API keys made at runtime work (first admin key, create, revoke); that the
 * counters equal the simulated account's /truth exactly and both detectors took batches; that a
 * spike becomes a finding; that with the primary of `{findings}` killed (SIGKILL) the API keeps
 * answering and a live spike still becomes a finding and a signed webhook; that the evaluator ran
 * once cluster-wide (no finding or delivery twice); and that a primary killed in the middle of
 * ingest (the one of the BullMQ prefix) is replaced by its replica, a detector then stopped with
 * SIGTERM exits in bounded time, and the counters are still exact. One line per scenario, then one
 * JSON line of totals; exit code 1 on any failure.
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
const WEBHOOK_SECRET = 'cluster-webhook-secret-0123456789';
/** After a failover, how long an api's ioredis Cluster may take to learn the new slot map (its refresh: 5 s). */
const CLIENT_TOPOLOGY_REFRESH_MS = 5_000;
/** A detector stopped with SIGTERM must be gone within this (its workers' close deadline is 8 s). */
const SIGTERM_EXIT_LIMIT_MS = 15_000;

interface Stack {
  prefix: string;
  apps: AppProcess[];
  api: AppProcess;
  detectors: AppProcess[];
  /** API_KEYS, or the first admin key the api made and wrote to its ADMIN_KEY_FILE. */
  adminKey: string;
  startedAt: number;
}

interface FindingItem {
  id: string;
  eventSource: string;
  eventName: string;
  insightType: string;
  region: string;
  startTime: string;
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
  private receiver?: WebhookReceiver;
  /** Every app stopped with SIGTERM: how long it took, and whether its workers had to be forced. */
  private readonly sigtermExits: Array<{
    app: string;
    when: string;
    ms: number;
    code: number | null;
    forced: boolean;
    deadline: boolean;
    /** The shutdown hooks the deadline's log line named as still running. */
    stillRunning?: string;
  }> = [];
  private readonly keyDir = mkdtempSync(join(tmpdir(), 'trailsight-cluster-keys-'));

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
        this.receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
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

      // No API_KEYS: the api makes the first admin key at runtime, on the cluster.
      const stack = await this.startStack('cl', BACKFILL_MINUTES, { runtimeKeys: true });
      await this.report.scenario('cluster/runtime-api-keys', async (figures) => {
        check((await this.call(stack, '/v1/keys')).status === 200, 'the first admin key works');
        const created = await this.call(stack, '/v1/keys', { method: 'POST', body: { scope: 'read' } });
        check(created.status === 201, `POST /v1/keys answered ${created.status}`);
        const { key, id } = created.body as { key: string; id: string };
        const asReader = { ...stack, adminKey: key };
        check((await this.call(asReader, '/v1/findings?limit=1')).status === 200, 'the read key reads');
        check((await this.call(asReader, '/v1/keys')).status === 403, 'the read key is no admin');
        const revoked = await this.call(stack, `/v1/keys/${id}`, { method: 'DELETE' });
        check(revoked.status === 204 || revoked.status === 200, `DELETE /v1/keys answered ${revoked.status}`);
        figures.after_revoke = (await this.call(asReader, '/v1/findings?limit=1')).status;
        check(figures.after_revoke === 401, `the revoked key answered ${figures.after_revoke}`);
        const subscribed = await this.call(stack, '/v1/webhooks', {
          method: 'POST',
          body: { url: this.receiver!.url, secret: WEBHOOK_SECRET, events: ['insight.start', 'insight.end'] },
        });
        check(subscribed.status === 201, `POST /v1/webhooks answered ${subscribed.status}`);
      });
      await this.report.scenario('cluster/exact-counts', async (figures) => {
        await this.expectExact(stack, BACKFILL_MINUTES, figures);
        figures.queues_used = await this.partitionsUsed('cl');
        check(figures.queues_used === PARTITIONS, `batches went to ${figures.queues_used} partitions of ${PARTITIONS}`);
        // Durable writes (REDIS_WAIT_TIMEOUT_MS, on by default) waited for the replicas.
        figures.waits = await this.waitsSent();
        check(figures.waits > 0, 'no WAIT reached a primary');
      });
      await this.report.scenario('cluster/replicas-share-work', async (figures) => {
        // Workers are named <host>:<pid>: each completed batch says which detector counted it.
        const counters = await this.batchesByWorker('cl');
        figures.detectors_that_counted = counters.size;
        figures.batches_by_detector = [...counters.values()].join('/');
        const pids = new Set(stack.detectors.map((detector) => String(detector.child.pid)));
        check(
          [...counters.keys()].every((name) => pids.has(name.split(':').pop()!)) && counters.size === 2,
          `batches counted by ${[...counters.keys()].join(', ')}, detectors ${[...pids].join(', ')}`,
        );
      });
      await this.report.scenario('cluster/spike-becomes-finding', async (figures) => {
        const spiked = this.spiked!;
        const found = await eventually(
          `a finding on ${spiked.eventName}`,
          async () => {
            const response = await this.call(stack, `/v1/findings?eventName=${spiked.eventName}&limit=50`);
            const items = (response.body as { items?: Array<{ id: string; eventName: string }> }).items ?? [];
            return items.find((item) => item.eventName === spiked.eventName);
          },
          180_000,
          1_000,
        );
        figures.finding = found.id;
        check((await this.call(stack, `/v1/findings/${found.id}`)).status === 200, 'the finding reads back');
      });
      await this.report.scenario('cluster/findings-primary-killed', async (figures) => {
        const keys = new KeySpace('cl');
        const victim = await this.cluster!.primaryOf(keySlot(keys.finding('any')));
        figures.webhooks_on_same_primary =
          (await this.cluster!.primaryOf(keySlot(keys.webhookSubscriptions()))) === victim;
        const live = this.plantLiveSpike(this.simulator!);
        const before = await this.call(stack, `/v1/findings?eventName=${live.eventName}&limit=50`);
        check(before.status === 200, 'findings answer before the kill');
        // The API is asked all along: during the failover, and after it.
        const answers: Array<{ sentAt: number; status: number }> = [];
        let asking = true;
        const asker = (async () => {
          while (asking) {
            const sentAt = Date.now();
            const status = await this.call(stack, '/v1/findings?limit=5').then(
              (response) => response.status,
              () => 0,
            );
            answers.push({ sentAt, status });
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        })();
        const killedAt = Date.now();
        await this.cluster!.kill(victim);
        await this.cluster!.failedOver(victim);
        figures.promotion_seconds = Math.round((Date.now() - killedAt) / 100) / 10;
        // Calls sent once the cluster agrees on the new primary and the api's client has had its
        // slot-map refresh (MOVED, or ioredis' periodic refresh) must all succeed.
        const settledAt = Date.now() + CLIENT_TOPOLOGY_REFRESH_MS;
        const found = await eventually(
          `a finding on the live spike of ${live.eventName}`,
          async () => {
            const response = await this.call(stack, `/v1/findings?eventName=${live.eventName}&limit=50`);
            const items = (response.body as { items?: FindingItem[] }).items ?? [];
            return items.find((item) => item.region === live.region && Date.parse(item.startTime) >= live.startMinute);
          },
          180_000,
          1_000,
        );
        figures.finding_seconds_after_kill = Math.round((Date.now() - killedAt) / 1000);
        const delivered = await this.receiver!.waitFor(
          'its signed insight.start',
          (requests) => requests.some((request) => request.body.detail.sharedEventID === found.id),
          120_000,
        ).catch(async (error: Error) => {
          throw new Error(`${error.message}; webhooks queue: ${await this.queueState('webhooks', bullPrefix('cl'))}`);
        });
        const start = delivered.find((request) => request.body.detail.sharedEventID === found.id)!;
        figures.webhook_seconds_after_kill = Math.round((start.receivedAt - killedAt) / 1000);
        check(start.event === 'insight.start' && start.signatureValid, 'a signed insight.start was delivered');
        asking = false;
        await asker;
        figures.api_calls = answers.length;
        const failed = answers.filter(({ status }) => status !== 200);
        figures.api_failed_during_failover = failed.filter(({ sentAt }) => sentAt < settledAt).length;
        const failedAfter = failed.filter(({ sentAt }) => sentAt >= settledAt).length;
        check(failedAfter === 0, `${failedAfter} API calls failed after the failover`);
        // The killed node comes back as a replica: the next failover has one to promote.
        await this.cluster!.restart(victim);
        this.failoversSurvived++;
      });
      await this.report.scenario('cluster/evaluator-once', async (figures) => {
        const runs = await this.evaluatorRuns('cl');
        figures.evaluator_runs = runs.length;
        figures.evaluator_workers = new Set(runs.map((run) => run.processedBy)).size;
        const span = (Date.now() - stack.startedAt) / 1000;
        // One job per interval whichever detector takes it (not one per detector), plus a few at start.
        check(runs.length <= span / 5 + 3, `${runs.length} evaluator runs in ${Math.round(span)} s at one per 5 s`);
        const listed = await this.call(stack, '/v1/findings?limit=200');
        const items = (listed.body as { items: FindingItem[] }).items;
        const insights = items.map(
          (f) => `${f.region}|${f.eventSource}|${f.eventName}|${f.insightType}|${f.startTime}`,
        );
        figures.findings = items.length;
        check(new Set(insights).size === insights.length, 'a finding was stored twice');
        const deliveries = this.receiver!.accepted().filter((request) => request.event !== 'ping');
        const distinct = new Set(deliveries.map((request) => `${request.body.detail.sharedEventID}|${request.event}`));
        figures.webhooks = deliveries.length;
        check(distinct.size === deliveries.length, `${deliveries.length - distinct.size} webhooks delivered twice`);
        check(
          deliveries.every((request: ReceivedWebhook) => request.signatureValid),
          'every webhook is signed',
        );
      });
      await this.stopStack(stack);

      const failover = await this.startStack('fo', FAILOVER_BACKFILL_MINUTES);
      await this.report.scenario('cluster/primary-killed-mid-ingest', async (figures) => {
        const keys = new KeySpace('fo');
        const target = SOURCES[0];
        // The primary of the BullMQ prefix: partition 0, the evaluator and webhooks queues.
        const victim = await this.cluster!.primaryOf(keySlot(bullPrefix('fo')));
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
        // One detector stopped now: its unfinished batches go to the other one.
        const [stopped, remaining] = failover.detectors;
        await this.terminate(stopped, 'fo, right after the failover');
        failover.apps.splice(failover.apps.indexOf(stopped), 1);
        this.running.splice(this.running.indexOf(stopped), 1);
        await this.expectExact(failover, FAILOVER_BACKFILL_MINUTES, figures);
        for (const app of failover.apps) await app.healthy(30_000);
        check(remaining.child.exitCode === null, 'the other detector runs');
        check((await this.call(failover, '/v1/findings?limit=5')).status === 200, 'the api answers after the failover');
        this.failoversSurvived++;
      });
      await this.stopStack(failover);
      await this.report.scenario('cluster/detector-sigterm-bounded', (figures) => {
        // Every detector was stopped with SIGTERM: the one in the middle of the failover above, and
        // the others with their stacks (those of `cl` after the {findings} primary was killed).
        const exits = this.sigtermExits.filter((exit) => exit.app === 'detector');
        figures.detectors_stopped = exits.length;
        figures.slowest_exit_seconds = Math.max(...exits.map((exit) => Math.round(exit.ms / 100) / 10));
        figures.forced_closes = exits.filter((exit) => exit.forced).length;
        // Past the process's shutdown deadline (12 s) it exits 1 with a log line, on purpose.
        figures.deadline_exits = exits.filter((exit) => exit.deadline).length;
        const waitedOn = exits.flatMap((exit) => (exit.stillRunning ? [exit.stillRunning] : []));
        if (waitedOn.length > 0) figures.deadline_waited_on = [...new Set(waitedOn)].join('; ');
        check(exits.length === 4, `${exits.length} detectors stopped, not 4`);
        for (const exit of exits)
          check(
            exit.ms < SIGTERM_EXIT_LIMIT_MS && (exit.code === 0 || (exit.code === 1 && exit.deadline)),
            `a detector (${exit.when}) exited with ${exit.code} after ${exit.ms} ms (limit ${SIGTERM_EXIT_LIMIT_MS})`,
          );
        return Promise.resolve();
      });
    } finally {
      await Promise.all(this.running.splice(0).map((app) => app.stop('SIGKILL')));
      this.client?.disconnect();
      await this.simulator?.server.stop();
      await this.receiver?.close();
      await this.cluster?.stop();
      rmSync(this.keyDir, { recursive: true, force: true });
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

  /**
   * A spike (20x, 4 minutes) from the current minute on: read live by the pollers (their overlap
   * re-reads the minute's first seconds), found once its first minute closes.
   */
  private plantLiveSpike(simulator: Simulator): {
    eventSource: string;
    eventName: string;
    region: string;
    startMinute: number;
  } {
    const now = Date.now();
    const source = SOURCES[1];
    const [busiest] = simulator.generator
      .apis()
      .filter((api) => !api.readOnly && api.eventName !== this.spiked!.eventName)
      .map((api) => ({ ...api, rate: simulator.generator.expectedCalls(source, api.eventSource, api.eventName, now) }))
      .sort((a, b) => b.rate - a.rate);
    const startMinute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    simulator.generator.injectAnomaly({
      kind: 'spike',
      eventSource: busiest.eventSource,
      eventName: busiest.eventName,
      factor: 20,
      minutes: 4,
      startMinute,
    });
    return { eventSource: busiest.eventSource, eventName: busiest.eventName, region: source.region, startMinute };
  }

  /** api, two detectors and two pollers; `runtimeKeys`: no API_KEYS, the api makes the first admin key. */
  private async startStack(
    prefix: string,
    backfillMinutes: number,
    options: { runtimeKeys?: boolean } = {},
  ): Promise<Stack> {
    const adminKeyFile = join(this.keyDir, `${prefix}-admin-key`);
    const env = async (): Promise<Record<string, string>> => ({
      PORT: String(await freePort()),
      REDIS_CLUSTER_NODES: this.cluster!.nodes,
      REDIS_PREFIX: prefix,
      EVENT_QUEUE_PARTITIONS: String(PARTITIONS),
      ...(options.runtimeKeys ? { ADMIN_KEY_FILE: adminKeyFile } : { API_KEYS: ADMIN_KEY }),
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
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    const startedAt = Date.now();
    const api = startApp('api', await env());
    // The api first: with runtime keys it makes the admin key before anyone needs it.
    await api.healthy(60_000);
    const detectors = [startApp('detector', await env()), startApp('detector', await env())];
    const apps = [api, ...detectors, startApp('poller', await env()), startApp('poller', await env())];
    this.running.push(...apps);
    await Promise.all(apps.map((app) => app.healthy(60_000)));
    const adminKey = options.runtimeKeys ? readFileSync(adminKeyFile, 'utf8').trim() : ADMIN_KEY;
    return { prefix, apps, api, detectors, adminKey, startedAt };
  }

  private async stopStack(stack: Stack): Promise<void> {
    await Promise.all(stack.apps.map((app) => this.terminate(app, `${stack.prefix}, stack stopped`)));
    for (const app of stack.apps) this.running.splice(this.running.indexOf(app), 1);
  }

  /** SIGTERM, and SIGKILL if it has not exited within SIGTERM_EXIT_LIMIT_MS (recorded as a failure). */
  private async terminate(app: AppProcess, when: string): Promise<void> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      app.stop('SIGTERM'),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), SIGTERM_EXIT_LIMIT_MS))),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') await app.stop('SIGKILL');
    this.sigtermExits.push({
      app: app.name,
      when,
      ms: code === 'timeout' ? Infinity : Date.now() - started,
      code: code === 'timeout' ? null : code,
      forced: app.output().includes('did not close within'),
      deadline: app.output().includes('shutdown did not finish within'),
      stillRunning: /shutdown did not finish within.*shutdown hooks: (.*?)\)"/.exec(app.output())?.[1],
    });
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

  /** Completed event batches per worker name (`<host>:<pid>`), every partition. */
  private async batchesByWorker(prefix: string): Promise<Map<string, number>> {
    const partitions = new EventPartitions({ redisPrefix: prefix, eventQueuePartitions: PARTITIONS });
    const byWorker = new Map<string, number>();
    for (const { name, prefix: queuePrefix } of partitions.queues)
      for (const job of await this.completedJobs(name, queuePrefix))
        if (job.processedBy) byWorker.set(job.processedBy, (byWorker.get(job.processedBy) ?? 0) + 1);
    return byWorker;
  }

  /** A queue's job counts and workers, for a failure message. */
  private async queueState(name: string, prefix: string): Promise<string> {
    const queue = new Queue(name, { connection: this.client!, prefix });
    try {
      const counts = await queue.getJobCounts();
      const workers = (await queue.getWorkers()).map((worker) => worker.name ?? '?');
      return `${JSON.stringify(counts)} workers ${workers.join(', ')}`;
    } catch (error) {
      return `unknown (${String(error)})`;
    } finally {
      await queue.close();
    }
  }

  private async evaluatorRuns(prefix: string): Promise<Job[]> {
    return this.completedJobs('evaluator', bullPrefix(prefix));
  }

  private async completedJobs(name: string, prefix: string): Promise<Job[]> {
    const queue = new Queue(name, { connection: this.client!, prefix });
    try {
      return await queue.getJobs(['completed'], 0, -1);
    } finally {
      await queue.close();
    }
  }

  private async call(
    stack: Pick<Stack, 'api' | 'adminKey'>,
    path: string,
    options: { method?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${stack.api.port}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        authorization: `Bearer ${stack.adminKey}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
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
