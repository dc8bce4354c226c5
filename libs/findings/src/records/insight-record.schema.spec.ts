import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildEndRecord, buildStartRecord, NO_ERROR_CODE, type InsightInput } from './insight-record.builder.js';
import type { InsightRecord } from '@trailsight/domain';
import { insightRecordErrors } from '../../../../test/support/insight-record.validator.js';

// Outside the repository (beside the checkout); the tests that need them skip when absent.
const REFERENCE_DOC = fileURLToPath(
  new URL('../../../../../shared/docs/cloudtrail-insights-reference.md', import.meta.url),
);
const AWS_EXAMPLES = fileURLToPath(
  new URL('../../../../../shared/datasets/aws-docs-insights-examples/insights_examples.json', import.meta.url),
);
const itWithDoc = existsSync(REFERENCE_DOC) ? it : it.skip;
const itWithExamples = existsSync(AWS_EXAMPLES) ? it : it.skip;
if (!existsSync(REFERENCE_DOC)) console.warn(`insight-record.schema.spec: ${REFERENCE_DOC} is absent; skipped`);
if (!existsSync(AWS_EXAMPLES)) console.warn(`insight-record.schema.spec: ${AWS_EXAMPLES} is absent; skipped`);

const callRate: InsightInput = {
  accountId: '123456789012',
  region: 'eu-west-1',
  eventSource: 'iam.amazonaws.com',
  eventName: 'CreateAccessKey',
  insightType: 'ApiCallRateInsight',
  startMinute: Date.parse('2026-01-05T03:07:00Z'),
  durationMinutes: 14,
  insightAverage: 41.3571428571,
  baselineAverage: 0.0013,
  baselineDurationMinutes: 10080,
  attributions: {
    userIdentityArn: Array.from({ length: 9 }, (_, i) => ({
      value: `arn:aws:iam::123456789012:user/u${i}`,
      insightAverage: i,
      baselineAverage: i % 2 ? 0.001 * i : 0,
    })),
    userAgent: [{ value: 'Boto3/1.34', insightAverage: 41.3571428571, baselineAverage: 0.0013 }],
    errorCode: [
      { value: NO_ERROR_CODE, insightAverage: 40, baselineAverage: 0.0013 },
      { value: 'LimitExceeded', insightAverage: 1.3571428571, baselineAverage: 0 },
    ],
  },
};
const errorRate: InsightInput = {
  ...callRate,
  insightType: 'ApiErrorRateInsight',
  errorCode: 'AccessDenied',
  attributions: {
    userIdentityArn: [{ value: 'arn:aws:iam::123456789012:user/x', insightAverage: 3, baselineAverage: 0 }],
  },
};
const drop: InsightInput = { ...callRate, insightAverage: 0, baselineAverage: 20, attributions: {} };

/** The JSON code blocks of a markdown text that parse to an Insights record. */
function insightRecordsIn(markdown: string): unknown[] {
  return [...markdown.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((match) => JSON.parse(match[1]) as { eventType?: unknown })
    .filter((value) => value.eventType === 'AwsCloudTrailInsight');
}

function mutate(record: InsightRecord, change: (r: InsightRecord) => void): InsightRecord {
  const copy = structuredClone(record);
  change(copy);
  return copy;
}

describe('Insights record schema', () => {
  it.each([
    ['call rate', callRate],
    ['error rate', errorRate],
    ['drop to zero', drop],
    ['no attributions', { ...callRate, attributions: undefined }],
  ])('accepts built Start and End records (%s)', (_, input) => {
    const ids = { sharedEventID: 'f1' };
    expect(insightRecordErrors(buildStartRecord(input, ids))).toEqual([]);
    expect(insightRecordErrors(buildEndRecord(input, ids))).toEqual([]);
  });

  itWithDoc("accepts every Insights record in the reference doc's examples", () => {
    const records = insightRecordsIn(readFileSync(REFERENCE_DOC, 'utf8'));
    expect(records).toHaveLength(3); // §2.2 Start and End, §2.3 error-rate Start
    for (const record of records) expect(insightRecordErrors(record)).toEqual([]);
  });

  itWithExamples("accepts AWS's own documented records", () => {
    const { Records } = JSON.parse(readFileSync(AWS_EXAMPLES, 'utf8')) as { Records: unknown[] };
    expect(Records).toHaveLength(5);
    for (const record of Records) expect(insightRecordErrors(record)).toEqual([]);
  });

  const valid = buildEndRecord(callRate, { sharedEventID: 'f1' });
  const validError = buildEndRecord(errorRate, { sharedEventID: 'f1' });
  it.each<[string, InsightRecord, RegExp]>([
    [
      'a top-level field Insights records do not have',
      mutate(valid, (r) => Object.assign(r, { userAgent: 'x' })),
      /must NOT have additional properties/,
    ],
    [
      'a missing sharedEventID',
      mutate(valid, (r) => delete (r as Partial<InsightRecord>).sharedEventID),
      /sharedEventID/,
    ],
    ['an unknown state', mutate(valid, (r) => Object.assign(r.insightDetails, { state: 'Ongoing' })), /state/],
    ['eventTime with milliseconds', mutate(valid, (r) => (r.eventTime = '2026-01-05T03:07:00.000Z')), /eventTime/],
    [
      'a fractional insightDuration',
      mutate(valid, (r) => (r.insightDetails.insightContext.statistics.insightDuration = 1.5)),
      /insightDuration/,
    ],
    [
      'errorCode on a call-rate insight',
      mutate(valid, (r) => (r.insightDetails.errorCode = 'AccessDenied')),
      /must NOT be valid/,
    ],
    [
      'an errorCode attribution on an error-rate insight',
      mutate(validError, (r) =>
        r.insightDetails.insightContext.attributions!.push({ attribute: 'errorCode', insight: [], baseline: [] }),
      ),
      /attribute must be equal to one of the allowed values/,
    ],
    [
      'six attribution values',
      mutate(valid, (r) => {
        const list = r.insightDetails.insightContext.attributions![0].insight;
        list.push({ value: 'v', average: 0 });
      }),
      /must NOT have more than 5 items/,
    ],
    [
      'an attribution list out of order',
      mutate(valid, (r) => r.insightDetails.insightContext.attributions![0].insight.reverse()),
      /not sorted by average, descending/,
    ],
    [
      'an attribute listed twice',
      mutate(valid, (r) => (r.insightDetails.insightContext.attributions![1].attribute = 'userIdentityArn')),
      /repeats userIdentityArn/,
    ],
  ])('rejects %s', (_, record, message) => {
    expect(insightRecordErrors(record).join('\n')).toMatch(message);
  });
});
