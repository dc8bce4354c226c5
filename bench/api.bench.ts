import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Cluster, Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { CounterRepository } from '@trailsight/detection';
import { FindingsRepository } from '@trailsight/findings';
import { seedFinding, seedId } from '../test/support/findings-seed.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { freePort, startRedis } from '../test/support/redis-server.js';
import { MINUTE_MS } from '@trailsight/domain';

/**
 * `npm run bench:api`: GET /v1/findings?limit=50 over 10,000 stored findings, from the api
 * process (auth, rate limit, validation, page cache) against a throwaway Redis, and the same
 * load against a bare Node http server that JSON.stringify's the same 50 findings per request.
 * Load comes from autocannon in its own process (100 connections, loopback). Last line: JSON.
 *
 * Then, after the load: GET /v1/apis?windowMinutes=1440 over a busy account-region whose day of
 * minute hashes holds many attribution fields (BENCH_APIS_APIS write APIs, each called by
 * BENCH_APIS_CALLERS identities and user agents every minute): its latency, the bytes Redis sends
 * for it, and, in this process, the heap a read of those minutes takes whole (how the route read
 * them before) against the route's streamed read of the series fields. Last, the time
 * POST /v1/suppressions/preview takes to match a draft rule against every stored finding.
 *
 * Env: BENCH_FINDINGS (10000), BENCH_CONNECTIONS (100), BENCH_SECONDS (10), BENCH_ROUNDS (2),
 * BENCH_APIS_APIS (20), BENCH_APIS_CALLERS (10). BENCH_CLUSTER=1: the findings load only, with the
 * api on a throwaway Redis Cluster (three primaries, three replicas) instead of one Redis.
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const APIS_APIS = Number(process.env.BENCH_APIS_APIS ?? 20);
const APIS_CALLERS = Number(process.env.BENCH_APIS_CALLERS ?? 10);
const ON_CLUSTER = process.env.BENCH_CLUSTER === '1';
const APIS_WINDOW = 1440;
const KEY = 'bench-read-key-0123456789abcdef';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Load {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** autocannon in its own process, so the load generator never shares an event loop with a server. */
function autocannon(url: string, seconds: number, headers: string[] = []): Promise<Load> {
  return new Promise((resolve, reject) => {
    const args = [autocannonBin, '-c', String(CONNECTIONS), '-d', String(seconds), '-j', '-n'];
    for (const header of headers) args.push('-H', header);
    args.push(url);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const result = JSON.parse(out) as {
        requests: { average: number };
        latency: { p99: number };
        errors: number;
        non2xx: number;
      };
      resolve({ rps: result.requests.average, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx });
    });
  });
}

async function startBare(pageFile: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/bench/bare-json.child.js')], {
    env: { ...process.env, BENCH_PAGE_FILE: pageFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

async function healthy(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const cluster = ON_CLUSTER ? await startRedisCluster(3) : undefined;
  const redis = cluster ? undefined : await startRedis();
  const client = cluster
    ? new Cluster(cluster.nodes.split(',').map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })))
    : new Redis(redis!.url);
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-bench-api-'));
  const stops: (() => unknown)[] = [];
  let summary = '';
  try {
    const repo = new FindingsRepository(client, new KeySpace('bench'));
    const t0 = Date.now() - FINDINGS * MINUTE_MS;
    const start = t0 - (t0 % MINUTE_MS);
    for (let i = 0; i < FINDINGS; i += 200) {
      const batch = Array.from({ length: Math.min(200, FINDINGS - i) }, (_, k) => i + k);
      await Promise.all(
        batch.map((n) =>
          seedFinding(
            repo,
            {
              index: n,
              startMinute: start + n * MINUTE_MS,
              accountId: n % 2 ? '111111111111' : '222222222222',
              region: ['us-east-1', 'us-west-2', 'eu-west-1'][n % 3],
              ...(n % 5 === 0 ? { errorCode: 'AccessDenied' } : {}),
              closed: n % 3 === 0,
            },
            seedId(n, 'bench'),
          ),
        ),
      );
    }
    log(`seeded ${await repo.count()} findings`);

    const port = await freePort();
    const api = spawn(process.execPath, [join(repoRoot, 'dist/apps/api/src/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes } : { REDIS_URL: redis!.url }),
        REDIS_PREFIX: 'bench',
        API_KEYS: `${KEY}:read`,
        API_RATE_LIMIT: '1000000000',
        LOG_LEVEL: 'warn',
      },
      // Its log would interleave with the result; the warn level keeps it short anyway.
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const apiExited = new Promise((resolve) => api.once('exit', resolve));
    stops.push(async () => {
      api.kill('SIGTERM');
      await apiExited;
    });
    await healthy(`http://127.0.0.1:${port}/health/ready`);
    const apiUrl = `http://127.0.0.1:${port}/v1/findings?limit=50`;
    const response = await fetch(apiUrl, { headers: { authorization: `Bearer ${KEY}` } });
    const page = (await response.json()) as { items: unknown[] };
    if (response.status !== 200 || page.items.length !== 50)
      throw new Error(`unexpected first page: ${response.status}`);
    const pageFile = join(dir, 'page.json');
    writeFileSync(pageFile, JSON.stringify(page));
    const bare = await startBare(pageFile);
    stops.push(bare.stop);

    const auth = [`authorization=Bearer ${KEY}`];
    // Warm both (JIT, connection pools), then alternate rounds and keep each side's best.
    await autocannon(apiUrl, 2, auth);
    await autocannon(bare.url, 2);
    let best: { api: Load; bare: Load } | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const apiLoad = await autocannon(apiUrl, SECONDS, auth);
      const bareLoad = await autocannon(bare.url, SECONDS);
      log(
        `round ${round + 1}: api ${apiLoad.rps.toFixed(0)} req/s p99 ${apiLoad.p99} ms; bare ${bareLoad.rps.toFixed(0)} req/s p99 ${bareLoad.p99} ms`,
      );
      if (apiLoad.errors + apiLoad.non2xx > 0)
        throw new Error(`api answered ${apiLoad.non2xx} non-2xx, ${apiLoad.errors} errors`);
      best = {
        api: !best || apiLoad.rps > best.api.rps ? apiLoad : best.api,
        bare: !best || bareLoad.rps > best.bare.rps ? bareLoad : best.bare,
      };
    }
    const result = best!;
    const apis = cluster ? {} : await benchApis(client as Redis, `http://127.0.0.1:${port}`);
    const preview = cluster ? {} : await benchSuppressionPreview(`http://127.0.0.1:${port}`);
    summary = JSON.stringify({
      findings_rps: Math.round(result.api.rps),
      findings_p99_ms: result.api.p99,
      bare_node_rps: Math.round(result.bare.rps),
      bare_node_p99_ms: result.bare.p99,
      ratio_vs_bare_node: Number((result.api.rps / result.bare.rps).toFixed(3)),
      stored_findings: FINDINGS,
      page_bytes: JSON.stringify(page).length,
      connections: CONNECTIONS,
      seconds: SECONDS,
      ...(cluster && { redis_cluster: true }),
      ...apis,
      ...preview,
    });
  } finally {
    for (const stop of stops.reverse()) await stop();
    await client.quit();
    await redis?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // Last, after every process has stopped: the summary is the last line.
  process.stdout.write(`${summary}\n`);
}

/**
 * POST /v1/suppressions/preview of a draft over every stored finding (all started in the last 30
 * days): the slowest of 5 calls after a warm-up, in ms. Target: under 1 s for 10,000 findings.
 */
async function benchSuppressionPreview(apiUrl: string): Promise<Record<string, number>> {
  const body = JSON.stringify({
    match: { eventName: 'Run*', userIdentityArn: 'arn:aws:sts::*:assumed-role/ci-deployer/*' },
  });
  const once = async () => {
    const t0 = performance.now();
    const response = await fetch(`${apiUrl}/v1/suppressions/preview`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body,
    });
    const result = (await response.json()) as { examined: number; matched: number };
    const ms = performance.now() - t0;
    if (response.status !== 200 || result.examined !== FINDINGS)
      throw new Error(`unexpected preview: ${response.status} ${JSON.stringify(result)}`);
    return { ms, matched: result.matched };
  };
  await once();
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await once());
  const worst = Math.max(...runs.map((r) => r.ms));
  log(`suppression preview over ${FINDINGS} findings: ${runs.map((r) => r.ms.toFixed(0)).join(', ')} ms`);
  return { suppression_preview_ms: Math.round(worst), suppression_preview_matched: runs[0].matched };
}

/** Bytes Redis has sent to its clients so far. */
async function redisBytesSent(client: Redis): Promise<number> {
  return Number(/total_net_output_bytes:(\d+)/.exec(await client.info('stats'))?.[1]);
}

/** The /v1/apis figures over a seeded busy account-region (see the header). */
async function benchApis(client: Redis, apiUrl: string): Promise<Record<string, number>> {
  const keys = new KeySpace('bench');
  const source = { accountId: '444444444444', region: 'us-east-1' };
  const current = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  let fields = 0;
  for (let m = 0; m < APIS_WINDOW; m += 60) {
    const pipeline = client.pipeline();
    for (let k = m; k < Math.min(m + 60, APIS_WINDOW); k++) {
      const minute = current - k * MINUTE_MS;
      const hash: Record<string, number> = {};
      for (let api = 0; api < APIS_APIS; api++) {
        const name = `iam.amazonaws.com|Api${api}`;
        hash[`c|${name}`] = APIS_CALLERS;
        for (let c = 0; c < APIS_CALLERS; c++) {
          hash[`cu|${name}|arn:aws:sts::444444444444:assumed-role/role-${c}/session-${minute}-${api}`] = 1;
          hash[`ca|${name}|aws-sdk-go-v2/1.${c} os/linux lang/go#1.22 md/GOOS#linux exec-env/${minute}`] = 1;
        }
      }
      fields += Object.keys(hash).length;
      pipeline.hset(keys.minuteCounters(source, minute), hash).zadd(keys.activeMinutes(source), minute, minute);
    }
    await pipeline.exec();
  }
  await client.sadd(keys.sources(), `${source.accountId}:${source.region}`);
  log(`seeded ${APIS_WINDOW} minutes of ${fields / APIS_WINDOW} counter fields for /v1/apis`);

  const url = `${apiUrl}/v1/apis?accountId=${source.accountId}&windowMinutes=${APIS_WINDOW}`;
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const before = await redisBytesSent(client);
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
    const body = (await response.json()) as { total: number };
    times.push(performance.now() - started);
    bytes = (await redisBytesSent(client)) - before;
    if (response.status !== 200 || body.total !== APIS_APIS) throw new Error(`/v1/apis answered ${response.status}`);
  }
  times.sort((a, b) => a - b);

  // Heap held by one request's read, here in process: whole minute hashes (the former read) against
  // the streamed series fields. Collected first, so each figure is what that read added.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const counters = new CounterRepository(client, keys, { counterRetentionMinutes: 11_520, dedupeWindowMinutes: 1440 });
  const from = current - APIS_WINDOW * MINUTE_MS;
  gc();
  let base = process.memoryUsage().heapUsed;
  let before = await redisBytesSent(client);
  const whole = await counters.readMinutes(source, from, current);
  const wholeHeap = process.memoryUsage().heapUsed - base;
  const wholeBytes = (await redisBytesSent(client)) - before;
  if (whole.length !== APIS_WINDOW) throw new Error(`read ${whole.length} minutes of ${APIS_WINDOW}`);
  whole.length = 0;
  gc();
  base = process.memoryUsage().heapUsed;
  let streamedHeap = 0;
  const sums = new Map<string, number>();
  before = await redisBytesSent(client);
  for await (const chunk of counters.seriesMinutes(source, from, current)) {
    for (const { fields: counts } of chunk) {
      for (const [field, n] of Object.entries(counts)) sums.set(field, (sums.get(field) ?? 0) + n);
    }
    streamedHeap = Math.max(streamedHeap, process.memoryUsage().heapUsed - base);
  }
  const streamedBytes = (await redisBytesSent(client)) - before;
  log(
    `/v1/apis over a day: ${times[2].toFixed(0)} ms, heap ${mb(wholeHeap)} MB whole vs ${mb(streamedHeap)} MB streamed`,
  );
  return {
    apis_day_ms: Math.round(times[2]),
    apis_day_redis_mb: mb(bytes),
    apis_day_whole_read_redis_mb: mb(wholeBytes),
    apis_day_streamed_redis_mb: mb(streamedBytes),
    apis_day_whole_read_heap_mb: mb(wholeHeap),
    apis_day_streamed_heap_mb: mb(streamedHeap),
    apis_day_counter_fields: fields,
  };
}

function mb(bytes: number): number {
  return Math.round((bytes / 1e6) * 10) / 10;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
