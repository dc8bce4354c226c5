import { MINUTE_MS } from '@trailsight/domain';
import { seedInput } from '../../../../test/support/findings-seed.js';
import { compareInsights, insightsOf } from './insight-comparison.js';
import { buildEndRecord, buildStartRecord } from './insight-record.builder.js';

const T = Date.UTC(2026, 0, 2, 3, 0);

function pair(id: string, startMinute: number, spec: { eventName?: string; errorCode?: string } = {}) {
  const input = seedInput({ index: 1, startMinute, ...spec });
  return [
    buildStartRecord(input, { sharedEventID: id }),
    buildEndRecord({ ...input, durationMinutes: 6 }, { sharedEventID: id }),
  ];
}

describe('compareInsights', () => {
  it('matches the same API, type and error code with near or overlapping starts; the rest is only-AWS or only-Trailsight', () => {
    const aws = insightsOf([
      ...pair('aws-1', T),
      ...pair('aws-2', T + 60 * MINUTE_MS, { eventName: 'TerminateInstances' }),
      ...pair('aws-3', T, { errorCode: 'AccessDenied' }),
    ]);
    const ours = insightsOf([
      ...pair('ts-1', T + 3 * MINUTE_MS),
      ...pair('ts-2', T + 200 * MINUTE_MS, { eventName: 'TerminateInstances' }),
      ...pair('ts-3', T, { errorCode: 'ThrottlingException' }),
    ]);
    const result = compareInsights(aws, ours, 15);
    expect(result.matched.map((m) => [m.aws.sharedEventID, m.trailsight.sharedEventID, m.startDeltaMinutes])).toEqual([
      ['aws-1', 'ts-1', 3],
    ]);
    expect(result.onlyAws.map((i) => i.sharedEventID).sort()).toEqual(['aws-2', 'aws-3']);
    expect(result.onlyTrailsight.map((i) => i.sharedEventID).sort()).toEqual(['ts-2', 'ts-3']);
  });

  it('pairs each insight once, the closest start first; an End alone still counts', () => {
    const [, endOnly] = pair('aws-end', T);
    const aws = insightsOf([endOnly]);
    expect(aws[0]?.start).toBe(new Date(T).toISOString().replace('.000Z', 'Z'));
    const ours = insightsOf([...pair('far', T + 10 * MINUTE_MS), ...pair('near', T + MINUTE_MS)]);
    const result = compareInsights(aws, ours, 15);
    expect(result.matched.map((m) => m.trailsight.sharedEventID)).toEqual(['near']);
    expect(result.onlyTrailsight.map((i) => i.sharedEventID)).toEqual(['far']);
  });
});
