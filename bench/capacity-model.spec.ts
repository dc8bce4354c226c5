import { describe, expect, it } from '@jest/globals';
import {
  capacityPlan,
  DEFAULT_SETTINGS,
  liveTailPagesPerSecond,
  type MeasuredCosts,
  type Workload,
} from './capacity-model.js';

const COSTS: MeasuredCosts = {
  detectorEventsPerCoreSecond: 100_000,
  redisCpuUsPerEvent: 5,
  redisCommandsPerEvent: 0.7,
  seenBytesPerEvent: 90,
  bytesPerCounterField: 170,
  pollerCpuSecondsPerPage: 0.0025,
  evaluatorUsPerSeriesMinute: 50,
  stateBytesPerSeries: 20_000,
  processBytesPerSeries: 15_000,
};

const workload = (accounts: number, eventsPerMinute = 100): Workload => ({
  accounts,
  regions: 17,
  eventsPerMinute,
  counterFieldsPerMinute: 60,
  seriesPerAccountRegion: 100,
});

describe('capacityPlan', () => {
  it('without overlap, the live tail reaches the quota at 100 events/s (6,000 a minute) per account-region', () => {
    const settings = { ...DEFAULT_SETTINGS, pollOverlapMinutes: 0 };
    expect(liveTailPagesPerSecond(6_000, settings)).toBeCloseTo(2, 5);
    expect(liveTailPagesPerSecond(12_000, settings)).toBeCloseTo(4, 5);
    const plan = capacityPlan(COSTS, workload(1, 6_000), settings);
    expect(plan.lookupEvents.quotaFraction).toBeCloseTo(1, 5);
    expect(plan.lookupEvents.liveTailCeilingEventsPerMinute).toBeGreaterThan(5_990);
    expect(plan.lookupEvents.liveTailCeilingEventsPerMinute).toBeLessThanOrEqual(6_000);
  });

  it('with the default 15-minute overlap the live tail re-reads each event about 11 times: its ceiling is about 550 a minute', () => {
    // 29 polls of 70 s and one sweep of 20 min every 5 min: 3,230 s of events read per 300 s.
    const plan = capacityPlan(COSTS, workload(1, 100));
    expect(plan.lookupEvents.liveTailCeilingEventsPerMinute).toBeGreaterThan(500);
    expect(plan.lookupEvents.liveTailCeilingEventsPerMinute).toBeLessThan(560);
    // An idle account-region still costs one page per poll.
    expect(liveTailPagesPerSecond(0, DEFAULT_SETTINGS)).toBeCloseTo(0.1, 5);
    expect(capacityPlan(COSTS, workload(1, 2_000)).lookupEvents.quotaFraction).toBeGreaterThan(1);
  });

  it('memory is events kept for the retention at their dedupe cost, counter fields at theirs, and detector states', () => {
    const plan = capacityPlan(COSTS, workload(10));
    const retention = DEFAULT_SETTINGS.counterRetentionMinutes;
    expect(plan.accountRegions).toBe(170);
    expect(plan.memoryBytes.dedupe).toBeCloseTo(170 * 100 * retention * 90);
    expect(plan.memoryBytes.counters).toBeCloseTo(170 * 60 * retention * 170);
    expect(plan.memoryBytes.detectorStates).toBe(170 * 100 * 20_000);
    expect(plan.memoryBytes.total).toBeCloseTo(
      plan.memoryBytes.dedupe + plan.memoryBytes.counters + plan.memoryBytes.detectorStates,
    );
  });

  it('grows linearly with the accounts, and adds primaries for memory', () => {
    const small = capacityPlan(COSTS, workload(10));
    const large = capacityPlan(COSTS, workload(1_000));
    expect(large.eventsPerSecond).toBeCloseTo(100 * small.eventsPerSecond);
    expect(large.countingCores).toBeCloseTo(100 * small.countingCores);
    expect(large.pollerCores).toBeCloseTo(100 * small.pollerCores);
    expect(large.memoryBytes.total).toBeCloseTo(100 * small.memoryBytes.total);
    expect(large.primaries).toBe(Math.ceil(large.memoryBytes.total / DEFAULT_SETTINGS.primaryMemoryBytes));
    expect(large.primaries).toBeGreaterThan(small.primaries);
    expect(large.detectorProcesses).toBeGreaterThan(small.detectorProcesses);
  });

  it('orders the limits nearest first: one evaluator and one Redis come nearer with more accounts, the quota does not', () => {
    const small = capacityPlan(COSTS, workload(10));
    const large = capacityPlan(COSTS, workload(1_000));
    const headroom = (plan: typeof small, name: string) => plan.limits.find((limit) => limit.name === name)!.headroom;
    expect(large.limits.map((limit) => limit.headroom)).toEqual(
      [...large.limits.map((limit) => limit.headroom)].sort((a, b) => a - b),
    );
    expect(headroom(large, 'lookup-events-quota')).toBeCloseTo(headroom(small, 'lookup-events-quota'));
    expect(headroom(large, 'evaluator-cpu')).toBeCloseTo(headroom(small, 'evaluator-cpu') / 100);
    // 1,700,000 series x 50 µs a minute: 1.4 cores, past one process's 0.6.
    expect(headroom(large, 'evaluator-cpu')).toBeLessThan(1);
    expect(headroom(small, 'evaluator-cpu')).toBeGreaterThan(1);
    // 170 account-regions x 100 series x 15,000 bytes: 255 MB of the 4 GiB heap.
    expect(headroom(small, 'evaluator-heap')).toBeCloseTo((4 * 2 ** 30) / 2.55e8, 3);
  });

  it('a busier account-region needs more Redis CPU: primaries for the CPU when memory would not call for them', () => {
    const costly = {
      ...COSTS,
      redisCpuUsPerEvent: 500,
      seenBytesPerEvent: 0,
      bytesPerCounterField: 0,
      stateBytesPerSeries: 0,
    };
    const plan = capacityPlan(costly, workload(100, 500));
    // 1,700 account-regions x 500/min = 14,167 events/s x 500 µs = 7.1 cores, 0.6 a primary.
    expect(plan.redisCpuCores).toBeCloseTo(7.08, 1);
    expect(plan.primaries).toBe(12);
  });
});
