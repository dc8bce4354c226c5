import type { MinimalJob } from 'bullmq';
import {
  buildEndRecord,
  buildStartRecord,
  type InsightInput,
  type NewActorKind,
  type NewActors,
} from '@trailsight/findings';
import { deliveryJobId } from '@trailsight/queue';
import { subscriptionMatches, type WebhookSubscription } from '../subscriptions/webhook-subscription.js';
import { MAX_WEBHOOK_BACKOFF_MS, webhookBackoff } from './webhook-backoff.js';
import { deliveryIdFor, insightEnvelope } from './webhook-envelope.js';

const input: InsightInput = {
  accountId: '123456789012',
  region: 'eu-west-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight',
  startMinute: Date.UTC(2026, 8, 1, 12, 0),
  durationMinutes: 1,
  insightAverage: 40,
  baselineAverage: 0.5,
  baselineDurationMinutes: 10080,
};

describe('insightEnvelope', () => {
  it('wraps the record like EventBridge does', () => {
    const record = buildStartRecord(input, { sharedEventID: 'shared-1', eventID: 'event-1' });
    expect(insightEnvelope('d-1', record)).toEqual({
      version: '0',
      id: 'd-1',
      'detail-type': 'AWS Insight via CloudTrail',
      source: 'aws.cloudtrail',
      account: '123456789012',
      time: record.eventTime,
      region: 'eu-west-1',
      resources: [],
      detail: record,
    });
  });

  it('names a delivery by (subscription, eventID), the same every time, with a valid job id', () => {
    const id = deliveryIdFor('sub-a', 'event-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deliveryIdFor('sub-a', 'event-1')).toBe(id);
    expect(deliveryIdFor('sub-b', 'event-1')).not.toBe(id);
    expect(deliveryIdFor('sub-a', 'event-2')).not.toBe(id);
    expect(deliveryJobId(id)).not.toContain(':');
  });
});

describe('webhookBackoff', () => {
  const job = { opts: { backoff: { type: 'webhook', delay: 1_000 } } } as unknown as MinimalJob;

  it('doubles from the job delay, with jitter in the upper half, capped at an hour', () => {
    for (let attempt = 1; attempt <= 6; attempt++) {
      const ceiling = 1_000 * 2 ** (attempt - 1);
      const delays = Array.from({ length: 200 }, () => webhookBackoff(attempt, 'webhook', undefined, job));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...delays)).toBeLessThanOrEqual(ceiling);
      expect(new Set(delays).size).toBeGreaterThan(1);
    }
    expect(webhookBackoff(40, 'webhook', undefined, job)).toBeLessThanOrEqual(MAX_WEBHOOK_BACKOFF_MS);
  });
});

describe('subscriptionMatches', () => {
  const start = buildStartRecord(input, { sharedEventID: 's' });
  const errors = buildEndRecord(
    { ...input, insightType: 'ApiErrorRateInsight', errorCode: 'AccessDenied', eventSource: 'iam.amazonaws.com' },
    { sharedEventID: 't' },
  );
  const sub = (over: Partial<WebhookSubscription> = {}): WebhookSubscription => ({
    id: 'x',
    type: 'webhook',
    url: 'https://example.com',
    events: ['insight.start', 'insight.end'],
    filter: {},
    enabled: true,
    consecutiveFailures: 0,
    createdAt: '',
    updatedAt: '',
    ...over,
  });

  it('matches every field of the filter against the record', () => {
    expect(subscriptionMatches(sub(), 'insight.start', start, undefined)).toBe(true);
    expect(
      subscriptionMatches(sub({ filter: { eventSource: ['ec2.amazonaws.com'] } }), 'insight.start', start, undefined),
    ).toBe(true);
    expect(
      subscriptionMatches(sub({ filter: { eventSource: ['iam.amazonaws.com'] } }), 'insight.start', start, undefined),
    ).toBe(false);
    expect(
      subscriptionMatches(
        sub({ filter: { accountId: ['123456789012'], region: ['eu-west-1'] } }),
        'insight.start',
        start,
        undefined,
      ),
    ).toBe(true);
    expect(subscriptionMatches(sub({ filter: { region: ['us-east-1'] } }), 'insight.start', start, undefined)).toBe(
      false,
    );
    expect(
      subscriptionMatches(sub({ filter: { errorCode: ['AccessDenied'] } }), 'insight.start', start, undefined),
    ).toBe(false);
    expect(
      subscriptionMatches(
        sub({ filter: { errorCode: ['AccessDenied'], insightType: ['ApiErrorRateInsight'] } }),
        'insight.end',
        errors,
        undefined,
      ),
    ).toBe(true);
    expect(
      subscriptionMatches(sub({ filter: { eventName: ['TerminateInstances'] } }), 'insight.start', start, undefined),
    ).toBe(false);
  });

  it('routes on the finding\u2019s new actors: any listed kind accepts, unknown ones match no kind', () => {
    const intruder = { userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'], userAgent: [] };
    const known = { userIdentityArn: [], userAgent: [] };
    const route = (newActor: NewActorKind[], actors: NewActors | undefined) =>
      subscriptionMatches(sub({ filter: { newActor } }), 'insight.start', start, actors);
    expect([route(['any'], intruder), route(['any'], known)]).toEqual([true, false]);
    expect([route(['identity'], intruder), route(['userAgent'], intruder)]).toEqual([true, false]);
    expect([route(['none'], intruder), route(['none'], known)]).toEqual([false, true]);
    expect(route(['userAgent', 'identity'], intruder)).toBe(true);
    expect([route([], undefined), route(['any'], undefined), route(['none'], undefined)]).toEqual([true, false, false]);
  });

  it('respects event types and the enabled flag', () => {
    expect(subscriptionMatches(sub({ events: ['insight.end'] }), 'insight.start', start, undefined)).toBe(false);
    expect(subscriptionMatches(sub({ enabled: false }), 'insight.start', start, undefined)).toBe(false);
  });
});
