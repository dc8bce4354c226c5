import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { bullPrefix, KeySpace, workerConnectionOptions } from '@trailsight/core';
import { CounterRepository, EvaluationRepository } from '@trailsight/detection';
import { type AccountRegion, MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { freePort, startRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { http, launchApp, sleep, waitFor, type AppName, type RunningApp } from './processes.js';
import { check, type Report } from './report.js';

/**
 * Issue 12, /v1/apis and failed event batches, each on a Redis and processes of its own:
 * - trust/apis-day-window-bounded: GET /v1/apis over a day of a busy account-region reads only
 *   the series fields (a small fraction of what the minute hashes hold), keeps the api's memory
 *   flat, and refuses a window past the day with a 400 naming windowMinutes;
 * - trust/failed-batch-held-and-retried: a batch that fails every attempt in a real detector is
 *   shown by /health, /metrics and /v1/ingest/failed, holds its account-region's evaluation (and
 *   only its), and once retried is counted exactly once and lets the evaluation go on.
 */
const PREFIX = 'trust';
const ADMIN_KEY = 'trust-admin-key-0123456789abcdef';
const READ_KEY = 'trust-read-key-0123456789abcdef';

interface Stack {
  redis: ThrowawayRedis;
  client: Redis;
  keys: KeySpace;
  apps: RunningApp[];
}

async function withStack(
  apps: AppName[],
  env: Record<string, string>,
  body: (stack: Stack, urls: string[]) => Promise<void>,
): Promise<void> {
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const stack: Stack = { redis, client, keys: new KeySpace(PREFIX), apps: [] };
  try {
    for (const app of apps) {
      stack.apps.push(
        launchApp(app, `trust-${app}`, {
          PORT: String(await freePort()),
          REDIS_URL: redis.url,
          REDIS_PREFIX: PREFIX,
          API_KEYS: `${ADMIN_KEY},${READ_KEY}:read`,
          API_RATE_LIMIT: '0',
          LOG_LEVEL: 'warn',
          ...env,
        }),
      );
    }
    await Promise.all(stack.apps.map((app) => app.healthy()));
    await body(
      stack,
      stack.apps.map((app) => `http://127.0.0.1:${app.port}`),
    );
    for (const app of stack.apps) check(!app.crashed(), `${app.name} crashed:\n${app.output().slice(-2000)}`);
  } finally {
    for (const app of stack.apps) await app.stop();
    await client.quit();
    await redis.stop();
  }
}

async function bytesSent(client: Redis): Promise<number> {
  return Number(/total_net_output_bytes:(\d+)/.exec(await client.info('stats'))?.[1]);
}

export async function runApisBatchesScenarios(report: Report): Promise<void> {
  await report.scenario('trust/apis-day-window-bounded', (figures) =>
    withStack(['api'], {}, async ({ client, keys, apps }, [apiUrl]) => {
      const source = { accountId: '444444444444', region: 'us-east-1' };
      const apis = 10;
      const callers = 10;
      const current = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
      // A day of minutes, each with every API's series and one identity and user-agent field per caller.
      // storedBytes: the fields' text, the least a read of whole hashes (the former route) sends.
      let storedBytes = 0;
      for (let m = 0; m < 1440; m += 120) {
        const pipeline = client.pipeline();
        for (let k = m; k < m + 120; k++) {
          const minute = current - k * MINUTE_MS;
          const hash: Record<string, number> = {};
          for (let api = 0; api < apis; api++) {
            const name = `sts.amazonaws.com|Api${api}`;
            hash[`c|${name}`] = 3;
            hash[`e|${name}|AccessDenied`] = 1;
            for (let c = 0; c < callers; c++) {
              hash[`cu|${name}|arn:aws:sts::444444444444:assumed-role/r${c}/session-${minute}`] = 1;
              hash[`ca|${name}|aws-sdk-java/2.25.${c} Linux/6.1 OpenJDK_64-Bit_Server_VM/${minute}`] = 1;
              hash[`eu|${name}|AccessDenied|arn:aws:sts::444444444444:assumed-role/r${c}/session-${minute}`] = 1;
            }
          }
          for (const [field, value] of Object.entries(hash)) storedBytes += field.length + String(value).length;
          pipeline.hset(keys.minuteCounters(source, minute), hash).zadd(keys.activeMinutes(source), minute, minute);
        }
        await pipeline.exec();
      }
      await client.sadd(keys.sources(), `${source.accountId}:${source.region}`);

      let before = 0;
      const api = (path: string) => http(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${READ_KEY}` } });
      const rssBefore = apps[0].rssMb();
      let routeBytes = 0;
      let slowest = 0;
      for (let i = 0; i < 2; i++) {
        before = await bytesSent(client);
        const response = await api(`/v1/apis?accountId=${source.accountId}&windowMinutes=1440&limit=1000`);
        routeBytes = (await bytesSent(client)) - before;
        slowest = Math.max(slowest, response.ms);
        check(response.status === 200, `/v1/apis answered ${response.status}: ${response.text.slice(0, 300)}`);
        const body = JSON.parse(response.text) as {
          total: number;
          items: { currentRate: number; currentMinute: string; baselineAverage: number; insightType: string }[];
        };
        check(body.total === 2 * apis, `total ${body.total}, expected ${2 * apis}`);
        const call = body.items.find((item) => item.insightType === 'ApiCallRateInsight');
        // Every seeded minute holds 3 calls; the minute may have turned since the seed.
        const routeCurrent = Date.parse(call?.currentMinute ?? '');
        let inWindow = 0;
        for (let minute = routeCurrent - 1440 * MINUTE_MS; minute < routeCurrent; minute += MINUTE_MS) {
          if (minute <= current && minute > current - 1440 * MINUTE_MS) inWindow++;
        }
        check(
          call?.currentRate === (routeCurrent <= current ? 3 : 0) &&
            Math.abs(call.baselineAverage - (3 * inWindow) / 1440) < 1e-9,
          `call series ${JSON.stringify(call)}`,
        );
      }
      const rssGrowth = apps[0].rssMb() - rssBefore;
      figures.api_rss_growth_mb = Math.round(rssGrowth);
      figures.stored_mb = Math.round(storedBytes / 1e5) / 10;
      figures.route_read_kb = Math.round(routeBytes / 1e3);
      figures.slowest_ms = Math.round(slowest);
      check(routeBytes < storedBytes / 20, `the route read ${routeBytes} bytes of ${storedBytes}`);
      // Reading the whole day (the former route) grew the api by well over 100 MB per request.
      check(rssGrowth < 64, `the api grew by ${Math.round(rssGrowth)} MB over 2 requests`);

      const tooLong = await api('/v1/apis?windowMinutes=1441');
      check(
        tooLong.status === 400 && tooLong.text.includes('windowMinutes must be a whole number from 5 to 1440'),
        `windowMinutes=1441 answered ${tooLong.status}: ${tooLong.text.slice(0, 300)}`,
      );
    }),
  );

  await report.scenario('trust/failed-batch-held-and-retried', (figures) =>
    withStack(
      ['detector', 'api'],
      { EVALUATION_INTERVAL_SECONDS: '1', EVALUATION_LATENESS_SECONDS: '0' },
      async ({ client, keys, redis }, [, apiUrl]) => {
        const held: AccountRegion = { accountId: '555555555555', region: 'us-east-1' };
        const free: AccountRegion = { accountId: '666666666666', region: 'us-east-1' };
        const now = Date.now();
        const historyStart = Math.floor(now / MINUTE_MS) * MINUTE_MS - 30 * MINUTE_MS;
        const failedMinute = historyStart + 20 * MINUTE_MS;
        const checkpoints = new CheckpointRepository(client, keys);
        for (const source of [held, free]) {
          await checkpoints.loadOrCreate(source, {
            liveUntil: now + 10 * MINUTE_MS,
            backfillFrom: historyStart,
            backfillUntil: historyStart,
            backfillCursor: historyStart,
            backfillDone: true,
          });
        }
        await checkpoints.registerSources([held, free]);

        // The fault: the dedupe set of the batch's minute is not a set (a stray write, a bad
        // restore). The counting script fails on its first read, before writing anything.
        const poisoned = keys.seenEvents(held, failedMinute);
        await client.set(poisoned, 'not a set');
        const events: SlimEvent[] = Array.from({ length: 50 }, (_, i) => ({
          eventId: `held-${i}`,
          eventTimeMs: failedMinute + i * 100,
          eventSource: 'ec2.amazonaws.com',
          eventName: 'RunInstances',
          readOnly: false,
          identity: 'arn:aws:iam::555555555555:role/deployer',
          userAgent: 'terraform/1.9',
        }));
        const queue = new Queue('events', {
          connection: workerConnectionOptions(redis.url),
          prefix: bullPrefix(PREFIX),
        });
        const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
        try {
          // Two quick attempts instead of the producer's twelve over an hour.
          await queue.add(
            'event-batch',
            { source: held, origin: 'trust', events },
            { jobId: 'batch-trust-held', attempts: 2, backoff: { type: 'fixed', delay: 100 } },
          );
          const listed = await waitFor(
            'the failed batch listed',
            async () => {
              const response = await http(`${apiUrl}/v1/ingest/failed`, { headers: admin });
              const body = JSON.parse(response.text) as { items: { id: string; events: number }[] };
              return body.items?.length ? body.items : undefined;
            },
            20_000,
            200,
          );
          check(
            listed.length === 1 && listed[0].id === 'batch-trust-held' && listed[0].events === 50,
            `listed ${JSON.stringify(listed)}`,
          );

          const health = await http(`${apiUrl}/health`, { headers: { authorization: `Bearer ${READ_KEY}` } });
          check(
            health.status === 503 &&
              health.text.includes('eventBatches') &&
              health.text.includes('555555555555:us-east-1'),
            `/health ${health.status}: ${health.text.slice(0, 400)}`,
          );
          const metrics = await http(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${READ_KEY}` } });
          check(
            metrics.text.includes('trailsight_event_batches_failed_total 1\n') &&
              metrics.text.includes('trailsight_event_batches_failed_events_total 50\n') &&
              metrics.text.includes('trailsight_event_batches_failed{account="555555555555",region="us-east-1"} 1\n'),
            'metrics lack the failed batch',
          );

          // The evaluator goes on for the other account-region and stops before the failed minute.
          const evaluations = new EvaluationRepository(client, keys, 11_520);
          const lastClosed = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 2 * MINUTE_MS;
          await waitFor(
            'the other account-region evaluated',
            async () => ((await evaluations.progress(free))?.cursor ?? 0) >= lastClosed || undefined,
            30_000,
            200,
          );
          await sleep(3_000);
          const heldCursor = (await evaluations.progress(held))?.cursor;
          check(heldCursor === failedMinute - MINUTE_MS, `held cursor ${heldCursor}, failed minute ${failedMinute}`);
          figures.held_minutes = Math.round((lastClosed - (heldCursor ?? 0)) / MINUTE_MS);

          // The operator fixes the cause and retries: counted once, evaluation goes on.
          await client.del(poisoned);
          const retry = await http(`${apiUrl}/v1/ingest/failed/retry`, { method: 'POST', headers: admin, body: '{}' });
          check(
            retry.status === 200 && retry.text.includes('"retried"'),
            `retry ${retry.status}: ${retry.text.slice(0, 300)}`,
          );
          const counters = new CounterRepository(client, keys, {
            counterRetentionMinutes: 11_520,
            dedupeWindowMinutes: 1440,
          });
          const calls = async () =>
            (await counters.readMinutes(held, failedMinute, failedMinute))[0]?.fields[
              'c|ec2.amazonaws.com|RunInstances'
            ];
          await waitFor(
            'the retried batch counted',
            async () => ((await calls()) === 50 ? true : undefined),
            20_000,
            200,
          );
          await waitFor(
            'the held account-region evaluated past the failed minute',
            async () => ((await evaluations.progress(held))?.cursor ?? 0) > failedMinute || undefined,
            30_000,
            200,
          );
          await waitFor(
            '/health up again',
            async () =>
              (await http(`${apiUrl}/health`, { headers: { authorization: `Bearer ${READ_KEY}` } })).status === 200 ||
              undefined,
            10_000,
            200,
          );

          // A second retry (or the same job added again) never counts twice.
          const again = await http(`${apiUrl}/v1/ingest/failed/retry`, {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({ ids: ['batch-trust-held'] }),
          });
          check(again.text.includes('"unknown"'), `second retry: ${again.text.slice(0, 300)}`);
          await (await queue.getJob('batch-trust-held'))?.retry('completed');
          await waitFor(
            'the job counted again',
            async () => (await queue.getJobState('batch-trust-held')) === 'completed' || undefined,
            10_000,
            100,
          );
          check((await calls()) === 50, `counted ${await calls()} of 50`);
          figures.counted = 50;
        } finally {
          await queue.close();
        }
      },
    ),
  );
}
