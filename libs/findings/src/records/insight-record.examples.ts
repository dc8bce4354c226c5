import type { InsightRecord } from '@trailsight/domain';

const ci = 'arn:aws:sts::123456789012:assumed-role/ci-deployer/build-7781';
const alice = 'arn:aws:iam::123456789012:user/alice';
const shared = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/**
 * The reference doc's §2.2 pair, verbatim: the builder reproduces it byte for byte (its spec says
 * so), and the API shows it as the example of GET /v1/findings/{id}/records.
 */
export const DOC_CALL_RATE_START: InsightRecord = {
  eventVersion: '1.09',
  eventTime: '2025-03-04T10:15:00Z',
  awsRegion: 'us-east-1',
  eventID: '3f0b6a51-6d0e-4c8e-9d7e-0a1b2c3d4e5f',
  eventType: 'AwsCloudTrailInsight',
  recipientAccountId: '123456789012',
  sharedEventID: shared,
  insightDetails: {
    state: 'Start',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    insightType: 'ApiCallRateInsight',
    sourceEventCategory: 'Management',
    insightContext: {
      statistics: {
        baseline: { average: 0.0421 },
        insight: { average: 37 },
        insightDuration: 1,
        baselineDuration: 10080,
      },
      attributions: [
        {
          attribute: 'userIdentityArn',
          insight: [
            { value: ci, average: 35 },
            { value: alice, average: 2 },
          ],
          baseline: [{ value: alice, average: 0.0421 }],
        },
        {
          attribute: 'userAgent',
          insight: [
            { value: 'aws-sdk-js/3.600.0', average: 35 },
            { value: 'console.amazonaws.com', average: 2 },
          ],
          baseline: [{ value: 'console.amazonaws.com', average: 0.0421 }],
        },
        {
          attribute: 'errorCode',
          insight: [{ value: 'null', average: 37 }],
          baseline: [{ value: 'null', average: 0.0421 }],
        },
      ],
    },
  },
  eventCategory: 'Insight',
};

export const DOC_CALL_RATE_END: InsightRecord = {
  ...DOC_CALL_RATE_START,
  eventTime: '2025-03-04T10:21:00Z',
  eventID: 'c41d2e7a-88f3-4b61-a0d2-5e6f7a8b9c0d',
  insightDetails: {
    ...DOC_CALL_RATE_START.insightDetails,
    state: 'End',
    insightContext: {
      statistics: {
        baseline: { average: 0.0421 },
        insight: { average: 24.5 },
        insightDuration: 6,
        baselineDuration: 10080,
      },
      attributions: [
        {
          attribute: 'userIdentityArn',
          insight: [
            { value: ci, average: 23.8 },
            { value: alice, average: 0.7 },
          ],
          baseline: [{ value: alice, average: 0.0421 }],
        },
        {
          attribute: 'userAgent',
          insight: [
            { value: 'aws-sdk-js/3.600.0', average: 23.8 },
            { value: 'console.amazonaws.com', average: 0.7 },
          ],
          baseline: [{ value: 'console.amazonaws.com', average: 0.0421 }],
        },
        {
          attribute: 'errorCode',
          insight: [{ value: 'null', average: 24.5 }],
          baseline: [{ value: 'null', average: 0.0421 }],
        },
      ],
    },
  },
};
