import { buildEndRecord, buildStartRecord, type InsightInput } from '@trailsight/findings';
import { endSilencedByTriage, isStaleStart, mutedBySuppression } from './delivery-rules.js';

const MINUTE = 60_000;
const now = Date.UTC(2026, 8, 1, 12, 0);
const input = (startMinute: number): InsightInput => ({
  accountId: '123456789012',
  region: 'eu-west-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight',
  startMinute,
  durationMinutes: 3,
  insightAverage: 40,
  baselineAverage: 2,
  baselineDurationMinutes: 10080,
});

describe('isStaleStart (catch-up is not an incident)', () => {
  it('holds back a Start found more than the maximum age after it began', () => {
    expect(isStaleStart(buildStartRecord(input(now - 61 * MINUTE), { sharedEventID: 'a' }), 60, now)).toBe(true);
    expect(isStaleStart(buildStartRecord(input(now - 3 * 60 * MINUTE), { sharedEventID: 'b' }), 60, now)).toBe(true);
  });

  it('lets a live Start through, and the age is configurable', () => {
    expect(isStaleStart(buildStartRecord(input(now - 2 * MINUTE), { sharedEventID: 'c' }), 60, now)).toBe(false);
    expect(isStaleStart(buildStartRecord(input(now - 60 * MINUTE), { sharedEventID: 'd' }), 60, now)).toBe(false);
    expect(isStaleStart(buildStartRecord(input(now - 20 * MINUTE), { sharedEventID: 'e' }), 15, now)).toBe(true);
  });

  it('is about Starts only: an End is decided by what happened to its Start', () => {
    expect(isStaleStart(buildEndRecord(input(now - 3 * 60 * MINUTE), { sharedEventID: 'f' }), 60, now)).toBe(false);
  });
});

describe('mutedBySuppression', () => {
  it('mutes a finding some rule or window suppressed, and only that', () => {
    expect(mutedBySuppression(['4f0c2b8e-3d1a-4c5e-9b7f-2a6d8e0c1b3f'])).toBe(true);
    expect(mutedBySuppression([])).toBe(false);
  });
});

describe('endSilencedByTriage', () => {
  it('silences the End of an acknowledged or resolved finding only', () => {
    expect(endSilencedByTriage('acknowledged')).toBe(true);
    expect(endSilencedByTriage('resolved')).toBe(true);
    expect(endSilencedByTriage('new')).toBe(false);
    expect(endSilencedByTriage(undefined)).toBe(false);
  });
});
