import type { CloudTrailRecord } from '@trailsight/domain';
import { EventSampler } from './event-sampler.js';
import { toSlimEvent } from './slim-event.js';

const MINUTE = Date.UTC(2026, 11, 1, 10, 0);

function record(id: string, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012' },
    eventTime: new Date(MINUTE + 1_000).toISOString().replace('.000', ''),
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2',
    requestParameters: { instanceType: 't3.micro' },
    eventID: id,
    readOnly: false,
    eventType: 'AwsApiCall',
    recipientAccountId: '123456789012',
    ...extra,
  };
}

/** The ids of the events the sampler chose, in order. */
function sampled(sampler: EventSampler, records: CloudTrailRecord[]): string[] {
  return records
    .map((r) => {
      const event = toSlimEvent(r);
      sampler.offer(r, event);
      return event;
    })
    .filter((event) => event.sample)
    .map((event) => event.eventId);
}

describe('EventSampler', () => {
  it('samples the first 5 events of each series and minute, per account-region', () => {
    const sampler = new EventSampler();
    const calls = Array.from({ length: 20 }, (_, i) => record(`c${i}`));
    expect(sampled(sampler, calls)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    // Failing calls are also the error series' events: it has its own five, although the calls' are spent.
    const errors = Array.from({ length: 8 }, (_, i) =>
      record(`e${i}`, { errorCode: 'Client.UnauthorizedOperation', errorMessage: 'not authorized' }),
    );
    expect(sampled(sampler, errors)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    // Another region, another minute: budgets of their own.
    expect(
      sampled(
        sampler,
        calls.slice(0, 6).map((r) => ({ ...r, awsRegion: 'eu-west-1' })),
      ),
    ).toHaveLength(5);
    const later = new Date(MINUTE + 61_000).toISOString().replace('.000', '');
    expect(
      sampled(
        sampler,
        calls.slice(0, 6).map((r) => ({ ...r, eventTime: later })),
      ),
    ).toHaveLength(5);
    // A successful read is in no series: never sampled.
    expect(sampled(sampler, [record('r', { eventName: 'DescribeInstances', readOnly: true })])).toEqual([]);
  });

  it('keeps what the console shows, small: source IP, error message, parameters up to 4 KB', () => {
    const sampler = new EventSampler();
    const failing = toSlimEvent(record('a', { errorCode: 'AccessDenied', errorMessage: 'denied' }));
    sampler.offer(record('a', { errorCode: 'AccessDenied', errorMessage: 'denied' }), failing);
    expect(failing.sample).toEqual({
      sourceIPAddress: '198.51.100.7',
      errorMessage: 'denied',
      requestParameters: { instanceType: 't3.micro' },
    });
    const huge = record('b', { requestParameters: { userData: 'x'.repeat(5_000) } });
    const event = toSlimEvent(huge);
    sampler.offer(huge, event);
    expect(event.sample).toEqual({ sourceIPAddress: '198.51.100.7', requestParameters: null });
  });
});
