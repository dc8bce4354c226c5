import {
  buildEndRecord,
  buildStartRecord,
  formatEventTime,
  NO_ERROR_CODE,
  type InsightInput,
} from './insight-record.builder.js';
import { DOC_CALL_RATE_END, DOC_CALL_RATE_START } from './insight-record.examples.js';

const ci = 'arn:aws:sts::123456789012:assumed-role/ci-deployer/build-7781';
const alice = 'arn:aws:iam::123456789012:user/alice';
const shared = DOC_CALL_RATE_START.sharedEventID;
const DOC_START = DOC_CALL_RATE_START;
const DOC_END = DOC_CALL_RATE_END;

const series = {
  accountId: '123456789012',
  region: 'us-east-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight' as const,
};
const startMinute = Date.parse('2025-03-04T10:15:00Z');

function docInput(over: Partial<InsightInput> & { main: number; other: number }): InsightInput {
  const { main, other, ...rest } = over;
  return {
    ...series,
    startMinute,
    durationMinutes: 1,
    insightAverage: main + other,
    baselineAverage: 0.0421,
    baselineDurationMinutes: 10080,
    attributions: {
      // Given in no particular order: the builder sorts and drops zero averages.
      userIdentityArn: [
        { value: alice, insightAverage: other, baselineAverage: 0.0421 },
        { value: ci, insightAverage: main, baselineAverage: 0 },
      ],
      userAgent: [
        { value: 'console.amazonaws.com', insightAverage: other, baselineAverage: 0.0421 },
        { value: 'aws-sdk-js/3.600.0', insightAverage: main, baselineAverage: 0 },
      ],
      errorCode: [{ value: NO_ERROR_CODE, insightAverage: main + other, baselineAverage: 0.0421 }],
    },
    ...rest,
  };
}

describe('buildStartRecord / buildEndRecord', () => {
  it('reproduce the reference call-rate pair field for field, in the same order', () => {
    const start = buildStartRecord(docInput({ main: 35, other: 2 }), {
      sharedEventID: shared,
      eventID: DOC_START.eventID,
    });
    const end = buildEndRecord(docInput({ main: 23.8, other: 0.7, durationMinutes: 6 }), {
      sharedEventID: shared,
      eventID: DOC_END.eventID,
    });
    expect(JSON.stringify(start)).toBe(JSON.stringify(DOC_START));
    expect(JSON.stringify(end)).toBe(JSON.stringify(DOC_END));
  });

  it("reproduce AWS's error-rate example: errorCode on insightDetails, no errorCode attribution, empty baseline", () => {
    const arn = 'arn:aws:sts::888888888888:assumed-role/Admin';
    const input: InsightInput = {
      accountId: '888888888888',
      region: 'us-east-1',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'DescribeQuery',
      insightType: 'ApiErrorRateInsight',
      errorCode: 'QueryIdNotFoundException',
      startMinute: Date.parse('2024-12-11T16:52:00Z'),
      durationMinutes: 5,
      insightAverage: 1.2,
      baselineAverage: 0,
      baselineDurationMinutes: 11092,
      attributions: {
        userIdentityArn: [{ value: arn, insightAverage: 1.2, baselineAverage: 0 }],
        userAgent: [{ value: 'aws-cli/2.22', insightAverage: 1.2, baselineAverage: 0 }],
        // Ignored: an error-rate insight names its error code already.
        errorCode: [{ value: 'QueryIdNotFoundException', insightAverage: 1.2, baselineAverage: 0 }],
      },
    };
    const start = buildStartRecord(input, {
      sharedEventID: 'fccb064f-dd07-4822-97c0-11115d8b91d4',
      eventID: '18378b1e-3653-433d-ba1e-aa11a5958f0c',
    });
    expect(start).toEqual({
      eventVersion: '1.09',
      eventTime: '2024-12-11T16:52:00Z',
      awsRegion: 'us-east-1',
      eventID: '18378b1e-3653-433d-ba1e-aa11a5958f0c',
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: '888888888888',
      sharedEventID: 'fccb064f-dd07-4822-97c0-11115d8b91d4',
      insightDetails: {
        state: 'Start',
        eventSource: 'cloudtrail.amazonaws.com',
        eventName: 'DescribeQuery',
        insightType: 'ApiErrorRateInsight',
        errorCode: 'QueryIdNotFoundException',
        sourceEventCategory: 'Management',
        insightContext: {
          statistics: {
            baseline: { average: 0 },
            insight: { average: 1.2 },
            insightDuration: 5,
            baselineDuration: 11092,
          },
          attributions: [
            { attribute: 'userIdentityArn', insight: [{ value: arn, average: 1.2 }], baseline: [] },
            { attribute: 'userAgent', insight: [{ value: 'aws-cli/2.22', average: 1.2 }], baseline: [] },
          ],
        },
      },
      eventCategory: 'Insight',
    });
    expect(Object.keys(start.insightDetails)).toEqual([
      'state',
      'eventSource',
      'eventName',
      'insightType',
      'errorCode',
      'sourceEventCategory',
      'insightContext',
    ]);
  });

  it('keep the top 5 of each list on its own ranking: insight by insight average, baseline by baseline average', () => {
    const values = [
      { value: 'u1', insightAverage: 1, baselineAverage: 9 },
      { value: 'u2', insightAverage: 7, baselineAverage: 0 },
      { value: 'u3', insightAverage: 3, baselineAverage: 8 },
      { value: 'u4', insightAverage: 5, baselineAverage: 0.5 },
      { value: 'u5', insightAverage: 0, baselineAverage: 7 },
      { value: 'u6', insightAverage: 6, baselineAverage: 0.25 },
      { value: 'u8', insightAverage: 2, baselineAverage: 6 },
      { value: 'u7', insightAverage: 2, baselineAverage: 0 },
    ];
    const record = buildStartRecord(
      { ...docInput({ main: 1, other: 1 }), attributions: { userIdentityArn: values } },
      { sharedEventID: shared },
    );
    const [identities, agents, errors] = record.insightDetails.insightContext.attributions!;
    expect(identities.insight).toEqual([
      { value: 'u2', average: 7 },
      { value: 'u6', average: 6 },
      { value: 'u4', average: 5 },
      { value: 'u3', average: 3 },
      { value: 'u7', average: 2 }, // tie with u8 broken by value
    ]);
    expect(identities.baseline).toEqual([
      { value: 'u1', average: 9 },
      { value: 'u3', average: 8 },
      { value: 'u5', average: 7 },
      { value: 'u8', average: 6 },
      { value: 'u4', average: 0.5 },
    ]);
    // Lists not given are present and empty: the attribute set is fixed by the insight type.
    expect(agents).toEqual({ attribute: 'userAgent', insight: [], baseline: [] });
    expect(errors).toEqual({ attribute: 'errorCode', insight: [], baseline: [] });
  });

  it('round averages to 10 decimals, as in AWS records (85.4202380952, 8.82145e-05)', () => {
    const record = buildEndRecord(
      {
        ...docInput({ main: 1, other: 0 }),
        insightAverage: 2 / 3,
        baselineAverage: 8.82145e-5,
        attributions: undefined,
      },
      { sharedEventID: shared },
    );
    expect(record.insightDetails.insightContext.statistics.insight.average).toBe(0.6666666667);
    expect(record.insightDetails.insightContext.statistics.baseline.average).toBe(8.82145e-5);
  });

  it('leave attributions out when none are given, and report a short baseline as it is', () => {
    const record = buildStartRecord(
      { ...docInput({ main: 1, other: 0 }), attributions: undefined, baselineDurationMinutes: 2880.4 },
      { sharedEventID: shared },
    );
    expect(record.insightDetails.insightContext).toEqual({
      statistics: {
        baseline: { average: 0.0421 },
        insight: { average: 1 },
        insightDuration: 1,
        baselineDuration: 2880,
      },
    });
  });

  it('label an insight on a data series sourceEventCategory Data, management ones Management', () => {
    const data = { ...docInput({ main: 35, other: 2 }), eventSource: 's3.amazonaws.com', eventName: 'GetObject' };
    const start = buildStartRecord({ ...data, sourceEventCategory: 'Data' }, { sharedEventID: shared });
    const end = buildEndRecord({ ...data, sourceEventCategory: 'Data', durationMinutes: 3 }, { sharedEventID: shared });
    expect(start.insightDetails.sourceEventCategory).toBe('Data');
    expect(end.insightDetails.sourceEventCategory).toBe('Data');
    expect(start.insightDetails.insightContext.statistics).toMatchObject({ insight: { average: 37 } });
    expect(buildStartRecord(data, { sharedEventID: shared }).insightDetails.sourceEventCategory).toBe('Management');
  });

  it('give each record its own random eventID and both the shared id', () => {
    const input = docInput({ main: 3, other: 1, durationMinutes: 3 });
    const start = buildStartRecord(input, { sharedEventID: shared });
    const end = buildEndRecord(input, { sharedEventID: shared });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(start.eventID).toMatch(uuid);
    expect(end.eventID).toMatch(uuid);
    expect(start.eventID).not.toBe(end.eventID);
    expect([start.sharedEventID, end.sharedEventID]).toEqual([shared, shared]);
    expect(end.eventTime).toBe('2025-03-04T10:18:00Z');
  });

  it('refuse input that cannot make a valid record', () => {
    const ids = { sharedEventID: shared };
    const base = docInput({ main: 1, other: 0 });
    expect(() => buildStartRecord({ ...base, startMinute: startMinute + 1_000 }, ids)).toThrow(/minute-aligned/);
    expect(() => buildStartRecord({ ...base, durationMinutes: 0 }, ids)).toThrow(/durationMinutes/);
    expect(() => buildStartRecord({ ...base, insightAverage: Number.NaN }, ids)).toThrow(/insightAverage/);
    expect(() => buildStartRecord({ ...base, baselineAverage: -1 }, ids)).toThrow(/baselineAverage/);
    expect(() => buildStartRecord({ ...base, errorCode: 'AccessDenied' }, ids)).toThrow(/no errorCode/);
    expect(() => buildStartRecord({ ...base, insightType: 'ApiErrorRateInsight' }, ids)).toThrow(/needs its errorCode/);
  });

  it('format eventTime without milliseconds', () => {
    expect(formatEventTime(Date.parse('2019-11-14T00:51:00.000Z'))).toBe('2019-11-14T00:51:00Z');
  });
});
