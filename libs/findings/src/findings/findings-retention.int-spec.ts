import { once } from 'node:events';
import { Test, type TestingModule } from '@nestjs/testing';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Redis } from 'ioredis';
import { CoreModule, KeySpace, loadConfig } from '@trailsight/core';
import { DAY_MS, MINUTE_MS } from '@trailsight/domain';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { FindingsRetentionModule } from '../findings-retention.module.js';
import { buildStartRecord, newInsightId, type InsightInput } from '../records/insight-record.builder.js';
import { newFinding, type NewFinding } from './finding.js';
import {
  FINDINGS_PRUNE_AT_START,
  FINDINGS_PRUNE_INTERVAL,
  FindingsRetentionService,
} from './findings-retention.service.js';
import { FindingsRepository } from './findings.repository.js';

const PREFIX = 'fret';
const RETENTION_DAYS = 30;
const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;

function finding(eventName: string, startMinute: number, region = 'us-east-1'): NewFinding {
  const input: InsightInput = {
    accountId: '123456789012',
    region,
    eventSource: 'ec2.amazonaws.com',
    eventName,
    insightType: 'ApiCallRateInsight',
    startMinute,
    durationMinutes: 1,
    insightAverage: 37,
    baselineAverage: 0.04,
    baselineDurationMinutes: 10080,
    attributions: {},
  };
  const start = buildStartRecord(input, { sharedEventID: newInsightId() });
  return newFinding(input, start, {
    direction: 'spike',
    peakScore: 6.5,
    expected: { expected: 0.1, lower: 0, upper: 3 },
  });
}

/**
 * The scheduled prune, driven by its timers in a Nest application (not by calling prune()):
 * findings that started more than FINDINGS_RETENTION_DAYS ago leave no key and no index entry.
 */
describe('FindingsRetentionService (Nest, real Redis)', () => {
  let server: ThrowawayRedis;
  let raw: Redis;
  let keys: KeySpace;
  /** Writes as the evaluator would, over its own connection (the app's has no offline queue before init). */
  let writer: FindingsRepository;
  let moduleRef: TestingModule;
  let retention: FindingsRetentionService;

  beforeAll(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
    keys = new KeySpace(PREFIX);
    writer = new FindingsRepository(raw, keys, { retentionDays: RETENTION_DAYS });
    const config = loadConfig({
      REDIS_URL: server.url,
      REDIS_PREFIX: PREFIX,
      FINDINGS_RETENTION_DAYS: String(RETENTION_DAYS),
    });
    moduleRef = await Test.createTestingModule({
      imports: [CoreModule.forRoot({ config }), FindingsRetentionModule],
    }).compile();
    retention = moduleRef.get(FindingsRetentionService);
  });
  afterAll(async () => {
    await moduleRef?.close();
    await raw?.quit();
    await server?.stop();
  });

  /** Every member of every findings index (the `all` one included), and the index keys still listed. */
  async function indexEntries(): Promise<string[]> {
    const indexes = [keys.findingsIndex('all'), ...(await raw.smembers(keys.findingsIndexKeys()))];
    const members = await Promise.all(indexes.map((key) => raw.zrange(key, '0', '-1')));
    return [...indexes, ...members.flat()];
  }

  async function leftOf(ids: string[]): Promise<string[]> {
    const all = [
      ...(await raw.keys(`${PREFIX}:*`)),
      ...(await indexEntries()),
      ...Object.values(await raw.hgetall(keys.openFindings())),
    ];
    return all.filter((entry) => ids.some((id) => entry.includes(id)));
  }

  it('prunes at start and then on its interval, leaving no index entries of findings past the retention', async () => {
    const expired = [
      finding('OldApi', now - (RETENTION_DAYS * DAY_MS + 5 * MINUTE_MS), 'ap-south-1'),
      finding('OldOpenApi', now - (RETENTION_DAYS * DAY_MS + 2 * MINUTE_MS)),
    ];
    const young = finding('YoungApi', now - (RETENTION_DAYS - 1) * DAY_MS);
    for (const f of [...expired, young]) {
      await writer.open(f);
      await writer.saveSeries(f.id, [{ minute: 0, value: 1, expected: 1, lower: 0, upper: 2, baselineAverage: 1 }]);
    }
    expect(await leftOf(expired.map((f) => f.id))).not.toEqual([]);

    // The run at start: scheduled by the application, not called here.
    retention.configure({ everyMs: 300 });
    const atStart = once(retention, 'pruned');
    await moduleRef.init();
    const registry = moduleRef.get(SchedulerRegistry);
    expect(registry.getIntervals()).toContain(FINDINGS_PRUNE_INTERVAL);
    expect(await atStart).toEqual([2]);
    expect(await leftOf(expired.map((f) => f.id))).toEqual([]);
    expect(await indexEntries()).not.toContain(keys.findingsIndex('region', 'ap-south-1'));
    expect(await writer.get(young.id)).toBeDefined();

    // A finding that is already past the retention when written (a late back-fill) goes on the next tick.
    const late = finding('LateApi', now - (RETENTION_DAYS * DAY_MS + MINUTE_MS), 'eu-west-1');
    await writer.open(late);
    expect(await leftOf([late.id])).not.toEqual([]);
    let removed = 0;
    while (removed === 0) [removed] = (await once(retention, 'pruned')) as [number];
    expect(removed).toBe(1);
    expect(await leftOf([late.id])).toEqual([]);
    expect(await indexEntries()).not.toContain(keys.findingsIndex('region', 'eu-west-1'));
    expect((await writer.list()).items.map((f) => f.id)).toEqual([young.id]);

    // Shutdown stops the timers.
    await moduleRef.close();
    expect(registry.getIntervals()).not.toContain(FINDINGS_PRUNE_INTERVAL);
    expect(registry.getTimeouts()).not.toContain(FINDINGS_PRUNE_AT_START);
  });
});
