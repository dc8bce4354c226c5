import { Queue } from 'bullmq';
import { bullPrefix, workerConnectionOptions } from '@trailsight/core';
import { QueueName } from '@trailsight/queue';
import { fetchTruth } from '../support/ground-truth.js';
import type { ExpectedInsight } from './faults.scenarios.js';
import { MINUTE, type Pipeline } from './pipeline.js';
import { http, sleep } from './processes.js';
import { check, type Report } from './report.js';

export interface LoadContext {
  pipeline: Pipeline;
  apiUrl: string;
  readKey: string;
  exclude: ExpectedInsight[];
}

const LOAD_MINUTES = 2;
/** The load asked for: this many times the account's normal event rate. */
const TARGET = 5;
/**
 * The spike factor on the APIs called at least every other minute: the rarest APIs keep their
 * rate (boosting them to 5/min each would be far more than 5x), so these carry a little more.
 */
const FACTOR = 7;

interface Sample {
  at: number;
  detectorMb: number;
  pollerMb: number;
  depth: number;
}

/**
 * Five times the normal event rate for two minutes on the normal account (every API it calls
 * at least every other minute gets FACTOR times max(its rate, 1)), while a client reads findings: memory and
 * queue depth must come back flat, the API must stay fast and answer no 5xx, and the counters
 * must still equal the truth.
 */
export async function runLoadScenarios(report: Report, ctx: LoadContext): Promise<void> {
  const { pipeline } = ctx;
  const source = pipeline.source('normal');
  const queue = new Queue(QueueName.Events, {
    connection: workerConnectionOptions(pipeline.redis.url),
    prefix: bullPrefix(pipeline.options.prefix),
  });
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      samples.push({
        at: Date.now(),
        detectorMb: pipeline.app('detector').rssMb(),
        pollerMb: pipeline.app('poller').rssMb(),
        depth: c.waiting + c.active + c.delayed + c.prioritized,
      });
      await sleep(1_000);
    }
  })();
  const latencies: number[] = [];
  let serverErrors = 0;
  let loadStart = 0;
  let loadEnd = 0;
  try {
    await report.scenario(`load/${TARGET}x-ingest-memory-and-queue-flat`, async (figures) => {
      const excluded = new Set(ctx.exclude.map((i) => i.anomaly.eventName));
      let injected = 0;
      for (const region of source.regions) {
        const ar = { accountId: source.accountId, region };
        const now = Date.now();
        for (const api of source.simulator.generator.apis()) {
          if (excluded.has(api.eventName)) continue;
          if (source.simulator.generator.expectedCalls(ar, api.eventSource, api.eventName, now) < 0.5) continue;
          const anomaly = source.simulator.account.injectAnomaly({
            kind: 'spike',
            eventSource: api.eventSource,
            eventName: api.eventName,
            factor: FACTOR,
            minutes: LOAD_MINUTES,
            accountId: source.accountId,
            region,
          });
          loadStart = Date.parse(anomaly.startTime);
          injected++;
        }
      }
      loadEnd = loadStart + LOAD_MINUTES * MINUTE;
      figures.apis = injected;
      await sleep(Math.max(0, loadStart - Date.now()));
      // Findings read by a client all through the load.
      const reader = async () => {
        while (Date.now() < loadEnd && latencies.length < 400) {
          const r = await http(`${ctx.apiUrl}/v1/findings?limit=50`, {
            headers: { authorization: `Bearer ${ctx.readKey}` },
          });
          latencies.push(r.ms);
          if (r.status >= 500 || r.status === 0) serverErrors++;
          await sleep(150);
        }
      };
      await Promise.all(Array.from({ length: 4 }, reader));
      await sleep(Math.max(0, loadEnd - Date.now()) + 35_000);

      // Calls per minute of the account from the truth, leaving out the APIs of the injected insights.
      const truth = async (from: number) => {
        const rows = await fetchTruth(source.url, from, from + MINUTE - 1);
        return rows
          .filter((row) => row.accountId === source.accountId && !excluded.has(row.eventName))
          .reduce((sum, row) => sum + row.calls, 0);
      };
      // Averages over several minutes: one minute of Poisson traffic against another is too noisy
      // a ratio to hold the load to (it read 4.9x in a run whose load was on target).
      const mean = async (minutes: number[]) =>
        (await Promise.all(minutes.map((m) => truth(m)))).reduce((a, b) => a + b, 0) / minutes.length;
      const normalRate = await mean([1, 2, 3].map((k) => loadStart - k * MINUTE));
      const loadRate = await mean(Array.from({ length: LOAD_MINUTES }, (_, k) => loadStart + k * MINUTE));
      figures.events_per_min_before = Math.round(normalRate);
      figures.events_per_min_load = Math.round(loadRate);
      figures.rate_factor = normalRate > 0 ? loadRate / normalRate : 0;

      const before = samples.filter((s) => s.at < loadStart);
      const during = samples.filter((s) => s.at >= loadStart && s.at < loadEnd + 10_000);
      const after = samples.filter((s) => s.at >= loadEnd + 10_000);
      check(before.length > 0 && during.length > 0 && after.length > 5, 'not enough memory samples');
      const max = (xs: number[]) => Math.max(...xs);
      for (const app of ['detector', 'poller'] as const) {
        const field = app === 'detector' ? 'detectorMb' : 'pollerMb';
        const pre = before[before.length - 1][field];
        const peak = max(during.map((s) => s[field]));
        const first = after[0][field];
        const last = after[after.length - 1][field];
        figures[`${app}_rss_mb_before`] = Math.round(pre);
        figures[`${app}_rss_mb_peak`] = Math.round(peak);
        figures[`${app}_rss_mb_after`] = Math.round(last);
        // Flat: not growing once the load is over, and not far above the load's own peak. Growth is
        // counted from the higher of the first sample after the load and the level before it: RSS
        // coming back from a collection's dip to where it was before the load is not a leak.
        check(
          last - Math.max(first, pre) <= 20,
          `${app} RSS still growing after the load: ${Math.round(first)} -> ${Math.round(last)} MB`,
        );
        check(
          last <= Math.max(peak, pre) * 1.15 + 10,
          `${app} RSS ${Math.round(last)} MB after the load, peak ${Math.round(peak)} MB`,
        );
      }
      figures.queue_depth_peak = max(during.map((s) => s.depth));
      figures.queue_depth_after = after[after.length - 1].depth;
      check(figures.rate_factor >= TARGET, `the load was only ${figures.rate_factor.toFixed(1)}x`);
      check(
        after.slice(-5).every((s) => s.depth <= 5),
        `queue depth after the load: ${after
          .slice(-5)
          .map((s) => s.depth)
          .join(',')}`,
      );
      const exact = await pipeline.compare(source, loadStart - MINUTE, loadEnd - 1);
      figures.lost = exact.lost;
      figures.double = exact.doubleCounted;
      check(exact.lost + exact.doubleCounted === 0, `counters differ during the load: ${exact.difference}`);
      check(pipeline.crashes().length === 0, `crashed: ${pipeline.crashes().join(', ')}`);
    });

    await report.scenario('load/api-findings-p99-under-load', async (figures) => {
      await Promise.resolve(); // figures gathered during the ingest load above
      const sorted = [...latencies].sort((a, b) => a - b);
      const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
      figures.requests = sorted.length;
      figures.p50_ms = Math.round(p(0.5));
      figures.p99_ms = Math.round(p(0.99));
      figures.server_errors = serverErrors;
      check(sorted.length >= 200, `only ${sorted.length} requests made`);
      check(serverErrors === 0, `${serverErrors} 5xx or failed requests`);
      check(p(0.99) < 1_500, `p99 ${Math.round(p(0.99))} ms`);
    });
  } finally {
    sampling = false;
    await sampler;
    await queue.close();
  }
}
