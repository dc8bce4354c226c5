import { buildEndRecord, buildStartRecord, type InsightInput } from '../records/insight-record.builder.js';
import { hasNewActor, NEW_ACTOR_KINDS, newActorsOf, newFinding } from './finding.js';

const input: InsightInput = {
  accountId: '123456789012',
  region: 'us-east-1',
  eventSource: 'iam.amazonaws.com',
  eventName: 'CreateAccessKey',
  insightType: 'ApiCallRateInsight',
  startMinute: Date.UTC(2026, 11, 1, 10, 0),
  durationMinutes: 1,
  insightAverage: 40,
  baselineAverage: 0.5,
  baselineDurationMinutes: 10_080,
  attributions: {
    userIdentityArn: [
      {
        value: 'arn:aws:iam::123456789012:user/intruder',
        insightAverage: 30,
        baselineAverage: 0,
        seenOnAccountRegion: false,
      },
      { value: 'arn:aws:iam::123456789012:role/admin', insightAverage: 9, baselineAverage: 0.4 },
      // Called in the baseline only: not in the insight's list, so not "new" whatever its figures.
      { value: 'arn:aws:iam::123456789012:role/old', insightAverage: 0, baselineAverage: 0.1 },
      // Six identities new to the API: only the five the record lists are reported.
      ...[1, 2, 3, 4, 5].map((n) => ({
        value: `arn:aws:iam::123456789012:user/n${n}`,
        insightAverage: 0.1 * n,
        baselineAverage: 0,
      })),
    ],
    userAgent: [
      // New to this API, but it called another API of the account-region in the baseline.
      { value: 'python-requests/2.31', insightAverage: 30, baselineAverage: 0, seenOnAccountRegion: true },
      { value: 'aws-cli/2', insightAverage: 10, baselineAverage: 0.5 },
    ],
    errorCode: [{ value: 'null', insightAverage: 40, baselineAverage: 0.5 }],
  },
};

describe('newActorsOf', () => {
  it('lists the identities and user agents of the insight\u2019s attributions never seen in the baseline', () => {
    const start = buildStartRecord(input, { sharedEventID: 'f-1' });
    expect(newActorsOf(input, start)).toEqual({
      userIdentityArn: [
        'arn:aws:iam::123456789012:user/intruder',
        'arn:aws:iam::123456789012:user/n5',
        'arn:aws:iam::123456789012:user/n4',
        'arn:aws:iam::123456789012:user/n3',
      ],
      userAgent: ['python-requests/2.31'],
      // n1-n5 carry no account-region flag (unknown): never listed as new there.
      onAccountRegion: { userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'], userAgent: [] },
    });
    expect(newFinding(input, start, { direction: 'spike', peakScore: 9 }).newActors).toEqual(newActorsOf(input, start));
  });

  it('is empty when every listed actor called the API in the baseline, or when there are no attributions', () => {
    const seen: InsightInput = {
      ...input,
      attributions: {
        userIdentityArn: [{ value: 'arn:aws:iam::123456789012:role/admin', insightAverage: 9, baselineAverage: 0.4 }],
        userAgent: [{ value: 'aws-cli/2', insightAverage: 10, baselineAverage: 0.5 }],
      },
    };
    const none = { userIdentityArn: [], userAgent: [] };
    // Attributions that do not say whether each actor was seen on the account-region: no such scope.
    expect(newActorsOf(seen, buildEndRecord(seen, { sharedEventID: 'f-2' }))).toEqual(none);
    const seenHere: InsightInput = {
      ...seen,
      attributions: {
        userIdentityArn: seen.attributions!.userIdentityArn!.map((v) => ({ ...v, seenOnAccountRegion: true })),
      },
    };
    expect(newActorsOf(seenHere, buildEndRecord(seenHere, { sharedEventID: 'f-2' }))).toEqual({
      ...none,
      onAccountRegion: none,
    });
    const { attributions: _, ...bare } = input;
    expect(newActorsOf(bare, buildStartRecord(bare, { sharedEventID: 'f-3' }))).toEqual(none);
  });
});

describe('hasNewActor', () => {
  it('says whether a finding has a new identity, a new user agent, either or neither', () => {
    const both = { userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'], userAgent: ['curl/8'] };
    const roleOnly = { userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'], userAgent: [] };
    const none = { userIdentityArn: [], userAgent: [], onAccountRegion: { userIdentityArn: [], userAgent: [] } };
    const kinds = NEW_ACTOR_KINDS;
    expect(kinds.map((k) => hasNewActor(both, k))).toEqual([true, true, true, false]);
    expect(kinds.map((k) => hasNewActor(roleOnly, k))).toEqual([true, true, false, false]);
    expect(kinds.map((k) => hasNewActor(none, k))).toEqual([false, false, false, true]);
    // Unknown (stored before new actors existed): no kind, so neither routed as new nor as known.
    expect(kinds.map((k) => hasNewActor(undefined, k))).toEqual([false, false, false, false]);
  });
});
