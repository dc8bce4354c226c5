import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { toSlimEvent } from '@trailsight/cloudtrail';
import { KeySpace, loadConfig, type RedisClient } from '@trailsight/core';
import { counterFields, MINUTE_MS, type AccountRegion } from '@trailsight/domain';
import { EventPartitions, JobName, JobProducer, type JobItem } from '@trailsight/queue';
import { TrafficGenerator } from '@trailsight/simulator';
import { startApp, type AppProcess } from '../test/support/app-process.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { freePort, launch, startRedis, terminate } from '../test/support/redis-server.js';
import { printHeadline, progress, round } from './bench-support.js';
import { capacityPlan, type MeasuredCosts } from './capacity-model.js';
import { realisticBatches, type BatchData } from './count-events.bench.js';
import { PEAK, quietLogs } from './poll.bench.js';

/**
 * npm run bench:scale — counting throughput through the detector's real path (the job producer
 * enqueues event batches, detector processes consume them and run the counting script) on a single
 * Redis with one replica and on a Redis Cluster of three primaries and three replicas, with one and
 * two detector processes, in the same run; and with REDIS_WAIT_TIMEOUT_MS=0 (no WAIT after the
 * counting writes) against its default. Per run, from the servers themselves: Redis commands per
 * event (INFO commandstats, commands inside scripts included), Redis CPU per event (INFO cpu, the
 * primaries, the replicas apart), Redis memory per event (used_memory before the run and after, the
 * queue's jobs removed) and per counter field of a minute hash (MEMORY USAGE of the keys), and events
 * per detector core (the processes' CPU time from /proc). Timing: the queues are paused while the
 * batches are enqueued, and the clock runs from their resumption to the last event counted. Both
 * topologies run side by side and their runs alternate, so both see the same load from elsewhere.
 *
 * Knobs (env): BENCH_SCALE_EVENTS (300000), BENCH_SCALE_SOURCES (50 account-regions),
 * BENCH_SCALE_ROUNDS (1: each configuration's best round counts), BENCH_SCALE_SKIP_CLUSTER=1,
 * BENCH_SCALE_SKIP_WAIT=1 (no WAIT-off runs). Progress on stderr; one JSON line last on stdout.
 */
const env = process.env;
const EVENTS = Number(env.BENCH_SCALE_EVENTS ?? 300_000);
const SOURCES = Number(env.BENCH_SCALE_SOURCES ?? 50);
const ROUNDS = Number(env.BENCH_SCALE_ROUNDS ?? 2);
const QUIET_EVENTS = Number(env.BENCH_SCALE_QUIET_EVENTS ?? 60_000);
/** The quiet workload's (and the capacity figures') events per minute in one account-region. */
const QUIET_RATE = 100;
const REGION = 'us-east-1';
const API_KEY = 'bench-scale-admin-key-0123456789abcdef';
const CLK_TCK = 100;
/**
 * Measured by other benchmarks, on this machine with other jobs running: bench:ingest's fleet (0.26
 * poller cores at 99.75 LookupEvents pages/s) and bench:detect (680 ms per minute for 10,000 series,
 * 20,551 bytes of state per series in Redis, 15,508 in the process).
 */
const POLLER_CPU_SECONDS_PER_PAGE = Number(env.BENCH_SCALE_POLLER_CPU_PER_PAGE ?? 0.0026);
const EVALUATOR_US_PER_SERIES_MINUTE = Number(env.BENCH_SCALE_EVALUATOR_US ?? 68);
const STATE_BYTES_PER_SERIES = 20_551;
const PROCESS_BYTES_PER_SERIES = 15_508;

interface Topology {
  name: 'single' | 'cluster';
  partitions: number;
  /** Env of every process: where Redis is. */
  redisEnv: Record<string, string>;
  primaries: number[];
  replicas: number[];
  stop(): Promise<void>;
}

interface Run {
  topology: Topology['name'];
  detectors: number;
  wait: boolean;
  eventsPerSecond: number;
  enqueueSeconds: number;
  commandsPerEvent: number;
  enqueueCommandsPerEvent: number;
  countCommandsPerEvent: number;
  waitCallsPerEvent: number;
  redisCpuUsPerEvent: number;
  replicaCpuUsPerEvent: number;
  bytesPerEvent: number;
  queueBytesPerEvent: number;
  detectorEventsPerCoreSecond: number;
  keys?: KeyCosts;
}

/** What the counting keys hold, from MEMORY USAGE of each (bytes per event id, per counter field, per key). */
interface KeyCosts {
  seenBytesPerEvent: number;
  bytesPerCounterField: number;
  counterFieldsPerMinute: number;
  doneMarkerBytes: number;
  /** Example events (EVENT_SAMPLES_MINUTES, 30 min by default): bytes per counted event while they last. */
  sampleBytesPerEvent: number;
  /** Every other key of the run (stats, minute index): bytes per account-region. */
  otherBytesPerAccountRegion: number;
}

interface NodeStats {
  calls: Map<string, number>;
  cpu: number;
  memory: number;
}

async function nodeStats(port: number): Promise<NodeStats> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    const [commands, cpu, memory] = [
      await client.info('commandstats'),
      await client.info('cpu'),
      await client.info('memory'),
    ];
    const calls = new Map<string, number>();
    for (const match of commands.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1], Number(match[2]));
    const field = (text: string, name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
    return {
      calls,
      cpu: field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys'),
      memory: field(memory, 'used_memory'),
    };
  } finally {
    client.disconnect();
  }
}

/** Summed over `ports`: calls (without our own INFO), CPU seconds, used_memory bytes. */
async function snapshot(ports: number[]): Promise<{ calls: Map<string, number>; cpu: number; memory: number }> {
  const all = await Promise.all(ports.map(nodeStats));
  const calls = new Map<string, number>();
  for (const stats of all)
    for (const [name, n] of stats.calls) if (name !== 'info') calls.set(name, (calls.get(name) ?? 0) + n);
  return { calls, cpu: all.reduce((s, x) => s + x.cpu, 0), memory: all.reduce((s, x) => s + x.memory, 0) };
}

function callsBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, n] of after) {
    const d = n - (before.get(name) ?? 0);
    if (d > 0) delta.set(name, d);
  }
  return delta;
}

const sum = (calls: Map<string, number>) => [...calls.values()].reduce((s, n) => s + n, 0);

/** utime + stime of a process, seconds. */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function startSingle(): Promise<Topology> {
  const primary = await startRedis({ appendOnly: true });
  const replicaPort = await freePort();
  const replicaDir = `${primary.dir}-replica`;
  mkdirSync(replicaDir);
  const replica = await launch(
    [
      '--port',
      String(replicaPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      replicaDir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--replicaof',
      '127.0.0.1',
      String(primary.port),
    ],
    { port: replicaPort },
  );
  const probe = new Redis({ port: replicaPort, host: '127.0.0.1' });
  const deadline = Date.now() + 30_000;
  while (!(await probe.info('replication')).includes('master_link_status:up')) {
    if (Date.now() > deadline) throw new Error('the replica never linked to its primary');
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.disconnect();
  return {
    name: 'single',
    partitions: 1,
    redisEnv: { REDIS_URL: primary.url },
    primaries: [primary.port],
    replicas: [replicaPort],
    async stop() {
      await terminate(replica);
      rmSync(replicaDir, { recursive: true, force: true });
      await primary.stop();
    },
  };
}

async function startCluster(): Promise<Topology> {
  const cluster = await startRedisCluster(3);
  const roles = await Promise.all(
    cluster.servers.map(async ({ port }) => {
      const client = new Redis({ port, host: '127.0.0.1' });
      const role = (await client.info('replication')).includes('role:master');
      client.disconnect();
      return { port, primary: role };
    }),
  );
  return {
    name: 'cluster',
    partitions: 3,
    redisEnv: { REDIS_CLUSTER_NODES: cluster.nodes },
    primaries: roles.filter((r) => r.primary).map((r) => r.port),
    replicas: roles.filter((r) => !r.primary).map((r) => r.port),
    stop: () => cluster.stop(),
  };
}

function adminClient(topology: Topology): RedisClient {
  if (topology.name === 'single') return new Redis(topology.redisEnv.REDIS_URL);
  return new Cluster(topology.primaries.map((port) => ({ host: '127.0.0.1', port })));
}

async function flushPrimaries(topology: Topology): Promise<void> {
  for (const port of topology.primaries) {
    const client = new Redis({ port, host: '127.0.0.1' });
    await client.flushall();
    client.disconnect();
  }
}

/** Bytes per counted event id, per counter field of a minute hash, and per done-marker: MEMORY USAGE of every key. */
async function keyCosts(topology: Topology, prefix: string, events: number, sources: number): Promise<KeyCosts> {
  const classes = new Map<string, { bytes: number; keys: number; members: number }>();
  for (const port of topology.primaries) {
    const client = new Redis({ port, host: '127.0.0.1' });
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const kind = /:(seen|m|done|smp):/.exec(key)?.[1] ?? 'other';
        const entry = classes.get(kind) ?? { bytes: 0, keys: 0, members: 0 };
        entry.bytes += Number((await client.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
        entry.keys++;
        if (kind === 'seen') entry.members += await client.scard(key);
        if (kind === 'm') entry.members += await client.hlen(key);
        classes.set(kind, entry);
      }
    } while (cursor !== '0');
    client.disconnect();
  }
  const of = (kind: string) => classes.get(kind) ?? { bytes: 0, keys: 0, members: 0 };
  const per = (a: number, b: number) => round(a / Math.max(1, b), 1);
  return {
    seenBytesPerEvent: per(of('seen').bytes, of('seen').members),
    bytesPerCounterField: per(of('m').bytes, of('m').members),
    counterFieldsPerMinute: per(of('m').members, of('m').keys),
    doneMarkerBytes: per(of('done').bytes, of('done').keys),
    sampleBytesPerEvent: per(of('smp').bytes, events),
    otherBytesPerAccountRegion: per(of('other').bytes, sources),
  };
}

async function countedSoFar(client: RedisClient, keys: KeySpace, sources: AccountRegion[]): Promise<number> {
  const counted = await Promise.all(sources.map((source) => client.hget(keys.sourceStats(source), 'counted')));
  return counted.reduce((s, n) => s + Number(n ?? 0), 0);
}

let runNumber = 0;

async function measure(
  topology: Topology,
  batches: BatchData[],
  detectors: number,
  wait: boolean,
  withKeyCosts: boolean,
): Promise<Run> {
  const prefix = `sc${++runNumber}`;
  const label = `${topology.name}, ${detectors} detector(s), WAIT ${wait ? 'default' : 'off'}`;
  await flushPrimaries(topology);
  const total = batches.reduce((s, b) => s + b.events.length, 0);
  const sources = [...new Map(batches.map((b) => [b.source.accountId, b.source])).values()];
  const keys = new KeySpace(prefix);
  const processEnv = {
    ...topology.redisEnv,
    REDIS_PREFIX: prefix,
    EVENT_QUEUE_PARTITIONS: String(topology.partitions),
    API_KEYS: API_KEY,
    LOG_LEVEL: 'warn',
    ...(wait ? {} : { REDIS_WAIT_TIMEOUT_MS: '0' }),
  };
  const apps: AppProcess[] = [];
  for (let i = 0; i < detectors; i++)
    apps.push(startApp('detector', { ...processEnv, PORT: String(await freePort()) }));
  const config = loadConfig(processEnv);
  const producer = new JobProducer(config);
  const admin = adminClient(topology);
  const queues = new EventPartitions(config).queues.map(
    ({ name, prefix: queuePrefix }) => new Queue(name, { connection: admin, prefix: queuePrefix }),
  );
  let polls = 0;
  try {
    await Promise.all(apps.map((app) => app.healthy(60_000)));
    // Nothing is consumed until every batch is in: the clock then measures counting alone.
    await Promise.all(queues.map((queue) => queue.pause()));
    const before = await snapshot(topology.primaries);
    const replicasBefore = await snapshot(topology.replicas);
    const enqueueStarted = performance.now();
    const items: JobItem[] = batches.map((data) => ({ name: JobName.EventBatch, data }));
    await producer.queueAll(items);
    const enqueueSeconds = (performance.now() - enqueueStarted) / 1000;
    const enqueued = await snapshot(topology.primaries);
    const cpuBefore = apps.map((app) => processCpu(app.child.pid!));
    const started = performance.now();
    await Promise.all(queues.map((queue) => queue.resume()));
    let counted = 0;
    while (counted < total) {
      await new Promise((r) => setTimeout(r, 50));
      counted = await countedSoFar(admin, keys, sources);
      polls++;
      if (performance.now() - started > 300_000) throw new Error(`${label}: ${counted} of ${total} after 300 s`);
    }
    const seconds = (performance.now() - started) / 1000;
    const detectorCpu = apps.reduce((s, app, i) => s + processCpu(app.child.pid!) - cpuBefore[i], 0);
    if (counted !== total) throw new Error(`${label}: counted ${counted} of ${total}`);
    const after = await snapshot(topology.primaries);
    const replicasAfter = await snapshot(topology.replicas);
    await Promise.all(apps.map((app) => app.stop()));
    // Our own progress reads (one HGET per account-region per poll) are not the detector's cost.
    const ours = polls * sources.length + 2 * queues.length;
    const enqueueCalls = sum(callsBetween(before.calls, enqueued.calls)) - queues.length;
    const countCalls = sum(callsBetween(enqueued.calls, after.calls)) - ours;
    const waitCalls = callsBetween(before.calls, after.calls).get('wait') ?? 0;
    const top = [...callsBetween(before.calls, after.calls)]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, n]) => `${name} ${round(n / total, 3)}`)
      .join(', ');
    // What stays: the queue's completed jobs (and their events) go, the counters remain.
    await Promise.all(queues.map((queue) => queue.obliterate({ force: true })));
    const kept = await snapshot(topology.primaries);
    const run: Run = {
      topology: topology.name,
      detectors,
      wait,
      eventsPerSecond: round(total / seconds),
      enqueueSeconds: round(enqueueSeconds),
      commandsPerEvent: round((enqueueCalls + countCalls) / total, 3),
      enqueueCommandsPerEvent: round(enqueueCalls / total, 3),
      countCommandsPerEvent: round(countCalls / total, 3),
      waitCallsPerEvent: round(waitCalls / total, 4),
      redisCpuUsPerEvent: round(((after.cpu - before.cpu) * 1e6) / total, 2),
      replicaCpuUsPerEvent: round(((replicasAfter.cpu - replicasBefore.cpu) * 1e6) / total, 2),
      bytesPerEvent: round((kept.memory - before.memory) / total, 1),
      queueBytesPerEvent: round((after.memory - kept.memory) / total, 1),
      detectorEventsPerCoreSecond: round(total / detectorCpu),
      ...(withKeyCosts ? { keys: await keyCosts(topology, prefix, total, sources.length) } : {}),
    };
    progress(
      `${label}: ${run.eventsPerSecond} events/s (${round(seconds)} s; enqueue ${run.enqueueSeconds} s), ` +
        `${run.commandsPerEvent} Redis commands/event (enqueue ${run.enqueueCommandsPerEvent}, count ` +
        `${run.countCommandsPerEvent}, WAIT ${run.waitCallsPerEvent}), Redis CPU ${run.redisCpuUsPerEvent} µs/event ` +
        `(replicas ${run.replicaCpuUsPerEvent}), ${run.bytesPerEvent} B/event kept (+${run.queueBytesPerEvent} in ` +
        `completed jobs), detectors ${run.detectorEventsPerCoreSecond} events per CPU-second` +
        (run.keys ? `; keys: ${JSON.stringify(run.keys)}` : ''),
    );
    progress(`${label}: commands per event: ${top}`);
    return run;
  } finally {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    await producer.onModuleDestroy();
    await Promise.all(queues.map((queue) => queue.close()));
    admin.disconnect();
  }
}

/**
 * What the poller enqueues for quiet account-regions: QUIET_RATE events a minute each, one batch per
 * account-region and 10-second poll (about 17 events), the account-regions interleaved; event times
 * moved to the minutes before now, inside the counters' retention.
 */
function quietBatches(events: number, accounts: readonly string[]): BatchData[] {
  const generator = new TrafficGenerator({
    seed: 9,
    accounts,
    regions: [REGION],
    eventsPerMinute: QUIET_RATE,
    rhythm: 'steady',
  });
  const perSource = Math.ceil(events / accounts.length);
  const minutes = Math.ceil(perSource / QUIET_RATE) + 1;
  const shift = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - (minutes + 1) * MINUTE_MS - PEAK;
  const polls = new Map<number, BatchData[]>();
  for (const accountId of accounts) {
    const source = { accountId, region: REGION };
    let taken = 0;
    for (let m = 0; m < minutes && taken < perSource; m++) {
      const byPoll = new Map<number, BatchData>();
      for (const record of generator.eventsForMinute(source, PEAK + m * MINUTE_MS)) {
        if (taken++ >= perSource) break;
        const event = toSlimEvent(record);
        event.eventTimeMs += shift;
        const poll = Math.floor(event.eventTimeMs / 10_000);
        const batch = byPoll.get(poll) ?? { source, origin: 'bench', events: [] };
        batch.events.push(event);
        byPoll.set(poll, batch);
      }
      for (const [poll, batch] of byPoll) polls.set(poll, [...(polls.get(poll) ?? []), batch]);
    }
  }
  return [...polls.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, batches]) => batches);
}

/**
 * The simulated traffic's shape at `eventsPerMinute` per account-region over a day: distinct
 * counter fields per minute (what a minute hash holds, attributions included) and distinct series
 * (call-rate and error-rate, the evaluator's unit of work and state).
 */
function trafficShape(eventsPerMinute: number): { fieldsPerMinute: number; seriesPerDay: number } {
  const generator = new TrafficGenerator({
    seed: 7,
    accounts: ['111122223333'],
    regions: [REGION],
    eventsPerMinute,
    rhythm: 'steady',
  });
  const source = { accountId: '111122223333', region: REGION };
  const series = new Set<string>();
  let fields = 0;
  const minutes = 1_440;
  for (let m = 0; m < minutes; m++) {
    const distinct = new Set<string>();
    for (const record of generator.eventsForMinute(source, PEAK - m * MINUTE_MS))
      for (const field of counterFields(toSlimEvent(record))) distinct.add(field);
    fields += distinct.size;
    for (const field of distinct) if (/^d?[ce]\|/.test(field)) series.add(field);
  }
  return { fieldsPerMinute: round(fields / minutes, 1), seriesPerDay: series.size };
}

function best(runs: Run[], topology: Topology['name'], detectors: number, wait: boolean): Run | undefined {
  const matching = runs.filter((r) => r.topology === topology && r.detectors === detectors && r.wait === wait);
  return matching.sort((a, b) => b.eventsPerSecond - a.eventsPerSecond)[0];
}

const ratio = (a: Run | undefined, b: Run | undefined) =>
  a && b ? round(a.eventsPerSecond / b.eventsPerSecond, 3) : null;

quietLogs();
const accounts = Array.from({ length: SOURCES }, (_, i) => String(300000000000 + i));
const batches = realisticBatches({ events: EVENTS, batchSize: 500, accounts, region: REGION, peakMinute: PEAK });
progress(`${batches.length} batches of up to 500 events, ${SOURCES} account-regions`);
const quiet = quietBatches(QUIET_EVENTS, accounts);
progress(`quiet workload: ${quiet.length} batches, ${QUIET_RATE} events/min per account-region`);
const runs: Run[] = [];
const quietRuns: Run[] = [];
// Both topologies up at once and their runs interleaved, so that both see the same neighbours.
const topologies: Topology[] = [];
try {
  topologies.push(await startSingle());
  if (env.BENCH_SCALE_SKIP_CLUSTER !== '1') topologies.push(await startCluster());
  for (const topology of topologies) {
    progress(
      `${topology.name}: primaries ${topology.primaries.join(', ')}, replicas ${topology.replicas.join(', ')}, ` +
        `${topology.partitions} events partition(s)`,
    );
    // Warm-up (page cache, JIT of the bench's own producer): not counted.
    await measure(topology, batches.slice(0, 100), 1, true, false);
  }
  const configurations: Array<{ detectors: number; wait: boolean }> = [
    { detectors: 1, wait: true },
    { detectors: 2, wait: true },
    ...(env.BENCH_SCALE_SKIP_WAIT === '1' ? [] : [{ detectors: 1, wait: false }]),
  ];
  for (let r = 1; r <= ROUNDS; r++)
    for (const { detectors, wait } of configurations)
      for (const topology of topologies)
        runs.push(await measure(topology, batches, detectors, wait, r === 1 && detectors === 1 && wait));
  for (const topology of topologies) quietRuns.push(await measure(topology, quiet, 1, true, true));
} finally {
  for (const topology of topologies) await topology.stop();
}

const s1 = best(runs, 'single', 1, true);
const s2 = best(runs, 'single', 2, true);
const c1 = best(runs, 'cluster', 1, true);
const c2 = best(runs, 'cluster', 2, true);
const s1off = best(runs, 'single', 1, false);
const c1off = best(runs, 'cluster', 1, false);
const perEvent = (run: Run | undefined) =>
  run && {
    commands: run.commandsPerEvent,
    wait_calls: run.waitCallsPerEvent,
    redis_cpu_us: run.redisCpuUsPerEvent,
    replica_cpu_us: run.replicaCpuUsPerEvent,
    bytes_kept: run.bytesPerEvent,
    bytes_in_completed_jobs: run.queueBytesPerEvent,
    detector_events_per_core_s: run.detectorEventsPerCoreSecond,
    // Key costs are read in the first round only.
    keys: run.keys ?? runs.find((other) => other.topology === run.topology && other.keys)?.keys ?? null,
  };
/** Every round's events/s of a configuration: the spread on a shared machine. */
const spread = (topology: Topology['name'], detectors: number, wait: boolean) =>
  runs
    .filter((r) => r.topology === topology && r.detectors === detectors && r.wait === wait)
    .map((r) => Math.round(r.eventsPerSecond));
const shape100 = trafficShape(100);
const shape1000 = trafficShape(1_000);
// The capacity figures take the quiet workload's costs: small batches, as the poller enqueues at 100 events/min.
const q1 = quietRuns.find((run) => run.topology === 'single');
const qc = quietRuns.find((run) => run.topology === 'cluster');
const costs: MeasuredCosts | undefined = q1?.keys && {
  detectorEventsPerCoreSecond: q1.detectorEventsPerCoreSecond,
  redisCpuUsPerEvent: q1.redisCpuUsPerEvent,
  redisCommandsPerEvent: q1.commandsPerEvent,
  seenBytesPerEvent: q1.keys.seenBytesPerEvent,
  bytesPerCounterField: q1.keys.bytesPerCounterField,
  pollerCpuSecondsPerPage: POLLER_CPU_SECONDS_PER_PAGE,
  evaluatorUsPerSeriesMinute: EVALUATOR_US_PER_SERIES_MINUTE,
  stateBytesPerSeries: STATE_BYTES_PER_SERIES,
  processBytesPerSeries: PROCESS_BYTES_PER_SERIES,
};
const capacity =
  costs &&
  Object.fromEntries(
    [10, 100, 1_000].map((accounts) => {
      const plan = capacityPlan(costs, {
        accounts,
        regions: 17,
        eventsPerMinute: QUIET_RATE,
        counterFieldsPerMinute: shape100.fieldsPerMinute,
        seriesPerAccountRegion: shape100.seriesPerDay,
      });
      return [
        `accounts_${accounts}`,
        {
          poller_processes: plan.pollerProcesses,
          detector_processes: plan.detectorProcesses,
          primaries: plan.primaries,
          memory_gb: round(plan.memoryBytes.total / 2 ** 30, 1),
          evaluator_cores: round(plan.evaluatorCores, 2),
          redis_cpu_cores: round(plan.redisCpuCores, 2),
          // Limits adding processes or primaries does not lift (one Redis is lifted by a cluster).
          nearest_fixed_limit: plan.limits
            .filter((limit) => !limit.name.startsWith('one-redis'))
            .slice(0, 2)
            .map((limit) => `${limit.name} x${round(limit.headroom, 2)}`)
            .join(', '),
          one_redis_memory_headroom: round(plan.limits.find((limit) => limit.name === 'one-redis-memory')!.headroom, 3),
        },
      ];
    }),
  );
printHeadline({
  events: batches.reduce((s, b) => s + b.events.length, 0),
  account_regions: SOURCES,
  rounds: ROUNDS,
  single_1_detector_events_per_s: s1?.eventsPerSecond ?? null,
  single_2_detectors_events_per_s: s2?.eventsPerSecond ?? null,
  cluster_1_detector_events_per_s: c1?.eventsPerSecond ?? null,
  cluster_2_detectors_events_per_s: c2?.eventsPerSecond ?? null,
  ratio_cluster_vs_single_1_detector: ratio(c1, s1),
  ratio_cluster_vs_single_2_detectors: ratio(c2, s2),
  ratio_2_vs_1_detectors_single: ratio(s2, s1),
  ratio_2_vs_1_detectors_cluster: ratio(c2, c1),
  rounds_events_per_s: {
    single_1: spread('single', 1, true),
    single_2: spread('single', 2, true),
    single_1_wait_off: spread('single', 1, false),
    cluster_1: spread('cluster', 1, true),
    cluster_2: spread('cluster', 2, true),
    cluster_1_wait_off: spread('cluster', 1, false),
  },
  single_wait_off_events_per_s: s1off?.eventsPerSecond ?? null,
  cluster_wait_off_events_per_s: c1off?.eventsPerSecond ?? null,
  ratio_wait_on_vs_off_single: ratio(s1, s1off),
  ratio_wait_on_vs_off_cluster: ratio(c1, c1off),
  // 0 until the detector issues WAIT (REDIS_WAIT_TIMEOUT_MS): then the on/off ratios mean something.
  wait_calls_per_event: s1?.waitCallsPerEvent ?? null,
  per_event_single: perEvent(s1),
  per_event_cluster: perEvent(c1),
  quiet_events: quiet.reduce((sum, b) => sum + b.events.length, 0),
  quiet_single_events_per_s: q1?.eventsPerSecond ?? null,
  quiet_cluster_events_per_s: qc?.eventsPerSecond ?? null,
  per_event_quiet_single: perEvent(q1),
  per_event_quiet_cluster: perEvent(qc),
  traffic_at_100_events_per_min: shape100,
  traffic_at_1000_events_per_min: shape1000,
  // 17 regions at 100 events/min each, with this run's costs (bench/capacity-model.ts).
  capacity,
});
