import type { SlimEvent, TrailFileRef } from '@trailsight/domain';
import {
  DEFAULT_JOB_OPTIONS,
  JOB_RULES,
  JobName,
  QueueName,
  batchJobId,
  deliveryJobId,
  trailFileJobId,
} from './queue-contract.js';

const source = { accountId: '123456789012', region: 'us-east-1' };
const event = (id: string) =>
  ({
    eventId: id,
    eventTimeMs: 0,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    readOnly: false,
  }) as SlimEvent;
const file = { id: 's3://bucket/AWSLogs/x.json.gz', etag: 'abc' } as TrailFileRef;
const settings = { webhookMaxAttempts: 9, webhookBackoffMs: 2_000, trailFileMaxAttempts: 3 };

describe('the queue contract', () => {
  // Exactly-once rests on these: the values are the ones the producers computed before JOB_RULES.
  it('keeps every job id as it was', () => {
    expect(batchJobId(source, [event('e-2'), event('e-1')])).toBe('batch-7ec896a5e0889fce03bd028bd11ba99bb2873719');
    expect(batchJobId(source, [event('e-1'), event('e-2')])).toBe('batch-7ec896a5e0889fce03bd028bd11ba99bb2873719');
    expect(trailFileJobId(file)).toBe('file-f3d52d55b13234da5d71bd8984f9d8515a4ed9cd');
    expect(deliveryJobId('0f6c2b1e-7d4a-5c3b-a9e8-1234567890ab')).toBe('wh-0f6c2b1e-7d4a-5c3b-a9e8-1234567890ab');
  });

  // A deliberate change (issue 12, fault 7): a file CloudTrail named is one file whatever its etag,
  // so a touch, rsync, re-encryption or move makes no new job (and no new batch ids); its id hashes
  // the name alone. Files of other names keep the rule above (id and etag) and their old job ids.
  it('gives a file CloudTrail named one job id whatever its etag', () => {
    const named = { id: 'cloudtrail:111122223333_CloudTrail_us-east-1_20260101T0005Z_Mu0KsOhtH1ar15ZZ', etag: 'e1' };
    expect(trailFileJobId(named)).toBe('file-a21cda12d49f99bce22c7aaf2d8e7143567042c0');
    expect(trailFileJobId({ ...named, etag: 'e2' })).toBe(trailFileJobId(named));
    expect(trailFileJobId({ ...file, etag: 'other' })).not.toBe(trailFileJobId(file));
  });

  it('derives each job id from its data with those rules', () => {
    const events = [event('e-1')];
    expect(JOB_RULES[JobName.EventBatch].jobId?.({ source, origin: 'x', events })).toBe(batchJobId(source, events));
    expect(JOB_RULES[JobName.TrailFile].jobId?.({ file })).toBe(trailFileJobId(file));
    const delivery = { subscriptionId: 's', deliveryId: 'd-1', event: 'insight.start' as const, record: {} as never };
    expect(JOB_RULES[JobName.WebhookDelivery].jobId?.(delivery)).toBe('wh-d-1');
    expect(JOB_RULES[JobName.EvaluateMinutes].jobId).toBeUndefined();
  });

  it('routes every job to its queue with its options', () => {
    expect(JOB_RULES[JobName.EventBatch]).toMatchObject({ queue: QueueName.Events });
    expect(JOB_RULES[JobName.TrailFile]).toMatchObject({ queue: QueueName.Files });
    expect(JOB_RULES[JobName.WebhookDelivery]).toMatchObject({ queue: QueueName.Webhooks });
    expect(JOB_RULES[JobName.EvaluateMinutes]).toMatchObject({ queue: QueueName.Evaluator });
    expect(DEFAULT_JOB_OPTIONS).toEqual({
      attempts: 12,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 3_600, count: 20_000 },
      removeOnFail: false,
    });
    expect(JOB_RULES[JobName.EventBatch].options(settings)).toEqual(DEFAULT_JOB_OPTIONS);
    expect(JOB_RULES[JobName.TrailFile].options(settings)).toEqual({ ...DEFAULT_JOB_OPTIONS, attempts: 3 });
    expect(JOB_RULES[JobName.WebhookDelivery].options(settings)).toEqual({
      attempts: 9,
      backoff: { type: 'webhook', delay: 2_000 },
      removeOnComplete: { age: 24 * 3_600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
    });
    expect(JOB_RULES[JobName.EvaluateMinutes].options(settings)).toEqual({
      attempts: 1,
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 100 },
    });
  });
});
