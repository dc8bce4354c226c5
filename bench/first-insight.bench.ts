import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOOKUP_EVENTS_PAGE_SIZE } from '@trailsight/cloudtrail';
import { KeySpace } from '@trailsight/core';
import { HOUR_MS } from '@trailsight/domain';
import { startLiveStack, type LiveStack } from '../test/support/live-stack.js';
import { printHeadline, progress, round } from './bench-support.js';

/**
 * Time to first insight for a new account read with LookupEvents at AWS's rate (2 requests/s,
 * 50 events a page), BACKFILL_DAYS=7: today's rule (evaluation waits for the whole back-fill)
 * against the new one (evaluation starts once the most recent day is in).
 *
 * 1. Back-fill pace, measured: api, poller and detector as processes against the simulated
 *    account throttled at 2 requests/s, default poll interval (10 s) and overlap (15 min), at
 *    100, 500 and 2,000 events/min. The live tail goes first and re-reads its overlap, so the
 *    back-fill gets what is left of the 2 requests/s: the pace is read off the back-fill
 *    cursor over a window after the first live poll (which alone reads 30 minutes of events).
 * 2. Time to first insight: today, 7 days of history read by the back-fill at that pace; new, a
 *    day of history read by the back-fill and the live tail together (24 h / (pace + 1), the
 *    pace in hours of history per hour).
 * 3. End to end, both rules for real, scaled down so that a run takes minutes: 10 events/min,
 *    BACKFILL_DAYS=2, 2 requests/s, a spike injected when the processes start; the time until
 *    its finding is at GET /v1/findings. Today's rule runs the build of the commit before this
 *    change: FIRST_INSIGHT_BASELINE_ROOT=<a checkout of it, built> (skipped without one).
 *
 * Prints progress on stderr and one JSON line last.
 */

const AWS_RATE = 2;
/** FIRST_INSIGHT_RATES=500,2000 measures some only; FIRST_INSIGHT_END_TO_END=0 skips part 3. */
const RATES = (process.env.FIRST_INSIGHT_RATES ?? '100,500,2000').split(',').filter(Boolean).map(Number);
const BACKFILL_DAYS = 7;
/** Seconds the pace of each rate is measured for, after the first live poll; and the most waited for that poll. */
const PACE_WINDOW_S = Number(process.env.FIRST_INSIGHT_PACE_WINDOW_S ?? 90);
const FIRST_POLL_MAX_S = Number(process.env.FIRST_INSIGHT_FIRST_POLL_MAX_S ?? 180);
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ADMIN_KEY = 'bench-first-insight-admin-key';
/** Live-stack timings apart, the poller's defaults: what an operator gets. */
const POLLER_DEFAULTS = { POLL_INTERVAL_SECONDS: '10', POLL_OVERLAP_MINUTES: '15' };

interface Pace {
  eventsPerMinute: number;
  /** Seconds until the first live poll was in (the back-fill waits for it). */
  firstLivePollSeconds: number | null;
  /** Hours of history the back-fill read per second after it, and the events per second that is. */
  backfillHoursPerSecond: number | null;
  backfillEventsPerSecond: number | null;
  /** Requests/s the simulated account answered over the window (the limit is 2). */
  requestsPerSecond: number | null;
}

async function measurePace(eventsPerMinute: number): Promise<Pace> {
  const stack = await startLiveStack({
    adminKey: ADMIN_KEY,
    seed: 17,
    account: ACCOUNT,
    region: REGION,
    lookupRate: AWS_RATE,
    backfillHours: BACKFILL_DAYS * 24,
    eventsPerMinute,
    env: POLLER_DEFAULTS,
  });
  try {
    const started = Date.now();
    const key = new KeySpace('ts').checkpoint({ accountId: ACCOUNT, region: REGION });
    const checkpoint = async () => {
      const hash = await stack.client.hgetall(key);
      return hash.liveUntil === undefined
        ? undefined
        : { liveUntil: Number(hash.liveUntil), cursor: Number(hash.backfillCursor) };
    };
    let first = await waitFor(checkpoint, 30_000);
    const initialLive = first.liveUntil;
    const deadline = started + FIRST_POLL_MAX_S * 1000;
    while (first.liveUntil === initialLive && Date.now() < deadline) {
      await delay(1_000);
      first = (await checkpoint()) ?? first;
    }
    if (first.liveUntil === initialLive) {
      progress(`${eventsPerMinute}/min: the first live poll is not in after ${FIRST_POLL_MAX_S} s`);
      return nullPace(eventsPerMinute);
    }
    const firstLivePollSeconds = (Date.now() - started) / 1000;
    const requestsBefore = requestsOf(stack);
    const from = { at: Date.now(), cursor: first.cursor };
    await delay(PACE_WINDOW_S * 1000);
    const to = { at: Date.now(), cursor: (await checkpoint())!.cursor };
    const seconds = (to.at - from.at) / 1000;
    const hoursPerSecond = (from.cursor - to.cursor) / HOUR_MS / seconds;
    const pace: Pace = {
      eventsPerMinute,
      firstLivePollSeconds: round(firstLivePollSeconds, 1),
      backfillHoursPerSecond: round(hoursPerSecond, 4),
      backfillEventsPerSecond: round(hoursPerSecond * 60 * eventsPerMinute, 1),
      requestsPerSecond: round((requestsOf(stack) - requestsBefore) / seconds, 2),
    };
    progress(`${eventsPerMinute}/min: ${JSON.stringify(pace)}`);
    return pace;
  } finally {
    await stack.stop();
  }
}

function nullPace(eventsPerMinute: number): Pace {
  return {
    eventsPerMinute,
    firstLivePollSeconds: null,
    backfillHoursPerSecond: null,
    backfillEventsPerSecond: null,
    requestsPerSecond: null,
  };
}

function requestsOf(stack: LiveStack): number {
  return stack.simulator.server.stats().reduce((sum, s) => sum + s.served, 0);
}

interface EndToEnd {
  rule: 'today' | 'new';
  /** Seconds from the processes' start to the first finding of the injected spike. */
  firstInsightSeconds: number;
  /** Events the simulated account served by then (back-fill and live tail). */
  eventsServed: number;
}

const E2E_RATE = 10;
const E2E_BACKFILL_DAYS = 2;

async function endToEnd(rule: EndToEnd['rule'], appsRoot: string | undefined): Promise<EndToEnd> {
  const stack = await startLiveStack({
    adminKey: ADMIN_KEY,
    seed: 29,
    account: ACCOUNT,
    region: REGION,
    lookupRate: AWS_RATE,
    backfillHours: E2E_BACKFILL_DAYS * 24,
    eventsPerMinute: E2E_RATE,
    env: POLLER_DEFAULTS,
    ...(appsRoot ? { appsRoot } : {}),
  });
  try {
    const started = Date.now();
    stack.simulator.generator.injectAnomaly({
      kind: 'spike',
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      factor: 60,
      minutes: 60,
      startMinute: started,
    });
    for (;;) {
      const { body } = await stack.call('GET', '/v1/findings?eventName=RunInstances&limit=10');
      const items = (body?.items ?? []) as Array<{ startTime: string }>;
      if (items.some((f) => Date.parse(f.startTime) >= started - 60_000)) break;
      if (Date.now() - started > 30 * 60_000) stack.withAppLogs(new Error(`${rule}: no finding after 30 minutes`));
      await delay(1_000);
    }
    const result = {
      rule,
      firstInsightSeconds: round((Date.now() - started) / 1000, 1),
      eventsServed: stack.simulator.server.stats().reduce((sum, s) => sum + s.events, 0),
    };
    progress(`end to end, ${rule} rule: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stack.stop();
  }
}

async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await delay(200);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const ceiling = AWS_RATE * LOOKUP_EVENTS_PAGE_SIZE;
  const paces: Pace[] = [];
  for (const rate of RATES) paces.push(await measurePace(rate));

  const table = paces.map((pace) => {
    // Hours of history read per hour of wall clock, at a back-fill pace in events/s.
    const historyRate = (eventsPerSecond: number | null) =>
      eventsPerSecond === null ? null : eventsPerSecond / (pace.eventsPerMinute / 60);
    // Today: the whole back-fill, read by the back-fill alone (never when it does not move).
    const today = (eventsPerSecond: number | null) => {
      const rate = historyRate(eventsPerSecond);
      return rate ? round((BACKFILL_DAYS * 24) / rate, 1) : null;
    };
    // New: a day of history, read by the back-fill (newest first) and the live tail (one hour an hour) together.
    const fresh = (eventsPerSecond: number | null) => {
      const rate = historyRate(eventsPerSecond);
      return rate === null ? null : round(24 / (rate + 1), 2);
    };
    return {
      eventsPerMinute: pace.eventsPerMinute,
      // The arithmetic: every request for the back-fill, full pages.
      ceilingTodayHours: today(ceiling),
      ceilingNewHours: fresh(ceiling),
      // At the pace measured, what the live tail leaves.
      measuredBackfillEventsPerSecond: pace.backfillEventsPerSecond,
      todayHours: today(pace.backfillEventsPerSecond),
      newHours: fresh(pace.backfillEventsPerSecond),
      firstLivePollSeconds: pace.firstLivePollSeconds,
      requestsPerSecond: pace.requestsPerSecond,
    };
  });
  for (const row of table) progress(JSON.stringify(row));

  const baseline = process.env.FIRST_INSIGHT_BASELINE_ROOT;
  const runs: EndToEnd[] = [];
  if (process.env.FIRST_INSIGHT_END_TO_END !== '0') runs.push(await endToEnd('new', undefined));
  if (process.env.FIRST_INSIGHT_END_TO_END === '0') progress('end to end skipped');
  else if (baseline && existsSync(join(baseline, 'dist/apps/poller/src/main.js')))
    runs.push(await endToEnd('today', baseline));
  else progress("FIRST_INSIGHT_BASELINE_ROOT not set (or not built): today's rule not run end to end");

  printHeadline({
    bench: 'first-insight',
    backfillDays: BACKFILL_DAYS,
    requestsPerSecond: AWS_RATE,
    table,
    endToEnd: { eventsPerMinute: E2E_RATE, backfillDays: E2E_BACKFILL_DAYS, runs },
  });
}

await main();
