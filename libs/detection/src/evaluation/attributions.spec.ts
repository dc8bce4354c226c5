import { callSeriesField, counterFields, type SlimEvent } from '@trailsight/domain';
import { buildStartRecord, newActorsOf, type InsightInput } from '@trailsight/findings';
import { attributionsOf } from './attributions.js';
import { seriesOfField } from './series-ref.js';

const DEPLOYER = 'arn:aws:iam::123456789012:role/deployer';
const ADMIN = 'arn:aws:iam::123456789012:role/admin';
const STRANGER = 'arn:aws:iam::123456789012:role/never-seen';

function event(name: string, identity: string, userAgent: string, errorCode?: string): SlimEvent {
  return {
    eventId: `${name}-${identity}`,
    eventTimeMs: 0,
    eventSource: 'ec2.amazonaws.com',
    eventName: name,
    readOnly: false,
    identity,
    userAgent,
    ...(errorCode ? { errorCode } : {}),
  };
}

/** One counter hash (a minute, or an hour's rollup) from events, as the counting scripts build it. */
function hashOf(events: Array<[SlimEvent, number]>): Record<string, number> {
  const hash: Record<string, number> = {};
  for (const [e, times] of events) for (const field of counterFields(e)) hash[field] = (hash[field] ?? 0) + times;
  return hash;
}

/** The baseline: the deployer runs instances with terraform; the admin only creates volumes, from the CLI (once, failing). */
const baseline = [
  hashOf([
    [event('RunInstances', DEPLOYER, 'terraform/1.9'), 120],
    [event('CreateVolume', ADMIN, 'aws-cli/2.15', 'Client.VolumeLimitExceeded'), 1],
  ]),
  hashOf([[event('RunInstances', DEPLOYER, 'terraform/1.9'), 90]]),
];

function newActorsOfBurst(by: string, userAgent: string) {
  const ref = seriesOfField(callSeriesField('ec2.amazonaws.com', 'RunInstances'))!;
  const period = [hashOf([[event('RunInstances', by, userAgent), 400]])];
  const input: InsightInput = {
    accountId: '123456789012',
    region: 'eu-west-1',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    insightType: 'ApiCallRateInsight',
    startMinute: Date.UTC(2026, 11, 2, 10),
    durationMinutes: 1,
    insightAverage: 400,
    baselineAverage: 1.75,
    baselineDurationMinutes: 120,
    attributions: attributionsOf(ref, { hashes: period, minutes: 1 }, { hashes: baseline, minutes: 120 }),
  };
  return newActorsOf(input, buildStartRecord(input, { sharedEventID: 'f' }));
}

describe('new actors of an insight', () => {
  it('reports a role that never called anything, on this API and on the account-region', () => {
    expect(newActorsOfBurst(STRANGER, 'python-requests/2.31')).toEqual({
      userIdentityArn: [STRANGER],
      userAgent: ['python-requests/2.31'],
      onAccountRegion: { userIdentityArn: [STRANGER], userAgent: ['python-requests/2.31'] },
    });
  });

  it('reports nothing when the burst comes from the role (and tool) that always calls this API', () => {
    expect(newActorsOfBurst(DEPLOYER, 'terraform/1.9')).toEqual({
      userIdentityArn: [],
      userAgent: [],
      onAccountRegion: { userIdentityArn: [], userAgent: [] },
    });
  });

  it('reports a role new to this API but known on the account-region (a failed call elsewhere counts) on the API only', () => {
    expect(newActorsOfBurst(ADMIN, 'aws-cli/2.15')).toEqual({
      userIdentityArn: [ADMIN],
      userAgent: ['aws-cli/2.15'],
      onAccountRegion: { userIdentityArn: [], userAgent: [] },
    });
  });
});
