import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS, minuteOf } from '@trailsight/domain';
import { TrafficGenerator } from '@trailsight/simulator';
import { freePort, startRedis } from '../support/redis-server.js';
import { writeTrailDirectory } from '../support/trail-directory.js';
import { http, launchApp, waitFor, type RunningApp } from './processes.js';
import { check, type Report } from './report.js';

const KEY = 'rel-data-events-admin-0123456789abcdef';
const SOURCE = { accountId: '444444444444', region: 'us-east-1' };

interface Deployment {
  label: string;
  prefix: string;
  app: RunningApp;
  url: string;
}

interface FindingSummary {
  id: string;
  insightType: string;
  eventSource: string;
  eventName: string;
  errorCode?: string;
  startTime: string;
  sourceEventCategory: string;
}

/**
 * Issue 12, data events: one trail directory (gzipped files in the S3 layout) holding management
 * events and S3/Lambda data events with a burst of S3 writes, read by two deployments of the whole
 * service on their own Redis: one with the default INSIGHTS_EVENT_CATEGORIES (Management), one
 * with Management,Data.
 */
export async function runDataEventsScenarios(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-rel-data-'));
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const deployments: Deployment[] = [];
  try {
    // Three hours ending now (the counters keep 8 days), the S3 burst an hour before the end.
    const from = minuteOf(Date.now()) - 180 * MINUTE_MS;
    const burst = from + 110 * MINUTE_MS;
    const generator = new TrafficGenerator({
      seed: 31,
      accounts: [SOURCE.accountId],
      regions: [SOURCE.region],
      eventsPerMinute: 40,
      rhythm: 'steady',
      dataEventsPerMinute: 20,
    });
    generator.injectAnomaly({
      kind: 'spike',
      eventSource: 's3.amazonaws.com',
      eventName: 'PutObject',
      factor: 40,
      minutes: 8,
      startMinute: burst,
    });
    // And a management burst on the busiest write API, for management insights to compare.
    const write = generator
      .apis()
      .filter((api) => !api.readOnly)
      .sort(
        (a, b) =>
          generator.expectedCalls(SOURCE, b.eventSource, b.eventName, burst) -
          generator.expectedCalls(SOURCE, a.eventSource, a.eventName, burst),
      )[0];
    generator.injectAnomaly({
      kind: 'spike',
      eventSource: write.eventSource,
      eventName: write.eventName,
      factor: 30,
      minutes: 6,
      startMinute: burst - 20 * MINUTE_MS,
    });
    const written = writeTrailDirectory(dir, generator, SOURCE, { fromMs: from, minutes: 170, withDataEvents: true });

    for (const [label, categories] of [
      ['management', 'Management'],
      ['data', 'Management,Data'],
    ] as const) {
      const port = await freePort();
      const prefix = `reldata${label}`;
      const app = launchApp('trailsight', `data-events-${label}`, {
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        PORT: String(port),
        API_KEYS: KEY,
        CLOUDTRAIL_SOURCE: 'files',
        TRAIL_DIR: dir,
        AWS_ACCOUNTS: SOURCE.accountId,
        POLL_INTERVAL_SECONDS: '1',
        EVALUATION_INTERVAL_SECONDS: '2',
        LOG_LEVEL: 'warn',
        ...(label === 'data' ? { INSIGHTS_EVENT_CATEGORIES: categories } : {}),
      });
      deployments.push({ label, prefix, app, url: `http://127.0.0.1:${port}` });
    }
    await Promise.all(deployments.map((d) => d.app.healthy(60_000)));
    const [managementOnly, withData] = deployments;

    await report.scenario('trust/data-events-skipped-by-default', async (figures) => {
      figures.management = written.management;
      figures.data = written.data;
      const metrics = await waitFor(
        'every event counted or skipped by category',
        async () => {
          const text = await metricsOf(managementOnly);
          const counted = sample(text, 'trailsight_events_counted_total', 'Management');
          const skipped = sample(text, 'trailsight_events_skipped_total', 'Data');
          return counted === written.management && skipped === written.data ? { counted, skipped } : undefined;
        },
        90_000,
      );
      figures.skipped = metrics.skipped;
      check(
        sample(await metricsOf(managementOnly), 'trailsight_events_counted_total', 'Data') === 0,
        'data events were counted',
      );
      // The management series hold the same counts whether data events are analysed or not.
      await waitFor(
        'the other deployment to count everything',
        async () =>
          sample(await metricsOf(withData), 'trailsight_events_counted_total', 'Data') === written.data
            ? true
            : undefined,
        90_000,
      );
      const [alone, beside] = await Promise.all([
        counterFields(client, managementOnly),
        counterFields(client, withData),
      ]);
      const dataFields = [...alone.keys()].filter(isDataField);
      check(
        dataFields.length === 0,
        `data fields in a management-only deployment: ${dataFields.slice(0, 3).join(', ')}`,
      );
      const managementBeside = new Map([...beside].filter(([field]) => !isDataField(field)));
      check(alone.size > 0, 'no management counters');
      check(sameMap(alone, managementBeside), 'management counters differ when data events are analysed');
      figures.fields = alone.size;
    });

    await report.scenario('trust/data-events-own-series', async (figures) => {
      const finding = await waitFor(
        'a data-event insight on the S3 write burst',
        async () =>
          (await findingsOf(withData)).find(
            (f) =>
              f.eventSource === 's3.amazonaws.com' &&
              f.eventName === 'PutObject' &&
              f.insightType === 'ApiCallRateInsight',
          ),
        120_000,
      );
      check(finding.sourceEventCategory === 'Data', `the finding is labelled ${finding.sourceEventCategory}`);
      check(finding.startTime === iso(burst), `it starts at ${finding.startTime}, the burst at ${iso(burst)}`);
      const records = await http(`${withData.url}/v1/findings/${finding.id}/records`, { headers: auth() });
      check(records.status === 200, `records: ${records.status}`);
      const labels = (JSON.parse(records.text) as Array<{ insightDetails?: { sourceEventCategory?: string } }>).map(
        (record) => record.insightDetails?.sourceEventCategory,
      );
      check(labels.length > 0 && labels.every((label) => label === 'Data'), `its records say ${labels.join(', ')}`);
      // The management insights are the same in both deployments, and neither labels one Data wrongly.
      const summary = (f: FindingSummary) =>
        `${f.insightType} ${f.eventSource} ${f.eventName} ${f.errorCode ?? ''} ${f.startTime}`;
      const [alone, beside] = await waitFor(
        'the same management insights in both deployments',
        async () => {
          const a = (await findingsOf(managementOnly)).map(summary).sort();
          const b = (await findingsOf(withData))
            .filter((f) => f.sourceEventCategory === 'Management')
            .map(summary)
            .sort();
          return a.length > 0 && a.join('\n') === b.join('\n') ? [a, b] : undefined;
        },
        60_000,
      );
      check(
        (await findingsOf(managementOnly)).every((f) => f.sourceEventCategory === 'Management'),
        'a Data finding without Data analysed',
      );
      figures.management_insights = alone.length;
      figures.data_insights = (await findingsOf(withData)).length - beside.length;
    });
  } finally {
    for (const d of deployments) {
      if (d.app.crashed()) report.crashes++;
      await d.app.stop().catch(() => undefined);
    }
    await client.quit().catch(() => undefined);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function auth(): Record<string, string> {
  return { authorization: `Bearer ${KEY}` };
}

async function metricsOf(d: Deployment): Promise<string> {
  return (await http(`${d.url}/metrics`, { headers: auth() })).text;
}

/** The sum of a metric's samples of one category (every account-region). */
function sample(text: string, name: string, category: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(`category="${category}"`)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

async function findingsOf(d: Deployment): Promise<FindingSummary[]> {
  // Few findings here: one page holds them all.
  const response = await http(`${d.url}/v1/findings?limit=500`, { headers: auth() });
  check(response.status === 200, `GET /v1/findings: ${response.status} ${response.text.slice(0, 200)}`);
  return (JSON.parse(response.text) as { items: FindingSummary[] }).items;
}

/** Every counter field of every minute of the source, `<minute>|<field>` -> count. */
async function counterFields(client: Redis, d: Deployment): Promise<Map<string, number>> {
  const fields = new Map<string, number>();
  const keys = new KeySpace(d.prefix);
  const minutes = await client.zrange(keys.activeMinutes(SOURCE), '0', '-1');
  for (const minute of minutes) {
    const hash = await client.hgetall(keys.minuteCounters(SOURCE, Number(minute)));
    for (const [field, value] of Object.entries(hash)) fields.set(`${minute}|${field}`, Number(value));
  }
  return fields;
}

/** A `<minute>|<field>` of a data series (series-key.ts: data fields start with `d`). */
function isDataField(key: string): boolean {
  return key.charAt(key.indexOf('|') + 1) === 'd';
}

function sameMap(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([key, value]) => b.get(key) === value);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
