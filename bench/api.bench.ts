import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { FindingsRepository } from '@trailsight/findings';
import { seedFinding, seedId } from '../test/support/findings-seed.js';
import { freePort, startRedis } from '../test/support/redis-server.js';
import { MINUTE_MS } from '@trailsight/domain';

/**
 * `npm run bench:api`: GET /v1/findings?limit=50 over 10,000 stored findings, from the api
 * process (auth, rate limit, validation, page cache) against a throwaway Redis, and the same
 * load against a bare Node http server that JSON.stringify's the same 50 findings per request.
 * Load comes from autocannon in its own process (100 connections, loopback). Last line: JSON.
 *
 * Env: BENCH_FINDINGS (10000), BENCH_CONNECTIONS (100), BENCH_SECONDS (10), BENCH_ROUNDS (2).
 */
const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
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
  const redis = await startRedis();
  const client = new Redis(redis.url);
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
        REDIS_URL: redis.url,
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
    });
  } finally {
    for (const stop of stops.reverse()) await stop();
    await client.quit();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // Last, after every process has stopped: the summary is the last line.
  process.stdout.write(`${summary}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
