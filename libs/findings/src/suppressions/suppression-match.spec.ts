import type { InsightRecord } from '@trailsight/domain';
import { compileMatch, matchProblems, topContributor, type MatchSubject } from './suppression-match.js';

function subject(overrides: Partial<MatchSubject> = {}, attributions?: unknown): MatchSubject {
  const start = {
    insightDetails: {
      insightContext: {
        statistics: { baseline: { average: 1 }, insight: { average: 30 } },
        ...(attributions === undefined
          ? {
              attributions: [
                {
                  attribute: 'userIdentityArn',
                  insight: [
                    { value: 'arn:aws:sts::123456789012:assumed-role/deploy-bot/run-42', average: 25 },
                    { value: 'arn:aws:iam::123456789012:user/alice', average: 5 },
                  ],
                  baseline: [],
                },
                { attribute: 'userAgent', insight: [{ value: 'terraform/1.7.0', average: 30 }], baseline: [] },
              ],
            }
          : { attributions }),
      },
    },
  } as unknown as InsightRecord;
  return {
    accountId: '123456789012',
    region: 'us-east-1',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    insightType: 'ApiCallRateInsight',
    direction: 'spike',
    records: { start },
    ...overrides,
  };
}

describe('matchProblems', () => {
  it('accepts the issue example', () => {
    expect(
      matchProblems({
        eventSource: 'ec2.amazonaws.com',
        eventName: 'Run*',
        userIdentityArn: 'arn:aws:sts::*:assumed-role/deploy-bot/*',
      }),
    ).toEqual([]);
  });

  it('names each bad field', () => {
    expect(matchProblems({ eventName: 'Run Instances' })).toEqual([
      expect.stringMatching(/^match\.eventName is not a valid pattern/),
    ]);
    expect(matchProblems({ accountId: '12345678901x' })).toEqual([expect.stringMatching(/^match\.accountId /)]);
    expect(matchProblems({ region: '' })).toEqual(['match.region must be a non-empty string']);
    expect(matchProblems({ direction: 'up' })).toEqual(['match.direction must be one of spike, drop']);
    expect(matchProblems({ insightType: 'Foo' })).toEqual([expect.stringMatching(/^match\.insightType /)]);
    expect(matchProblems({ userAgent: 'a\nb' })).toEqual([expect.stringMatching(/^match\.userAgent /)]);
    expect(matchProblems({ newActor: 'yes' })).toEqual([
      'match.newActor must be one of any, identity, userAgent, none',
    ]);
    expect(matchProblems({ newActor: ['any'] })).toEqual([expect.stringMatching(/^match\.newActor must be one of/)]);
    expect(matchProblems({ toString: 'x' })).toEqual([expect.stringMatching(/^match\.toString is not a match field/)]);
    expect(matchProblems({ colour: 'red' })).toEqual([expect.stringMatching(/^match\.colour is not a match field/)]);
    expect(matchProblems({})).toEqual(['match must name at least one field']);
    expect(matchProblems(null)).toEqual(['match must be an object']);
  });
});

describe('compileMatch', () => {
  it('matches `*` as any run of characters, everything else literally', () => {
    expect(compileMatch({ eventName: 'Run*' })(subject())).toBe(true);
    expect(compileMatch({ eventName: '*Instances' })(subject())).toBe(true);
    expect(compileMatch({ eventName: 'Run' })(subject())).toBe(false);
    expect(compileMatch({ eventName: 'run*' })(subject())).toBe(false);
    expect(compileMatch({ eventSource: 'ec2.amazonaws.com' })(subject({ eventSource: 'ec2xamazonaws.com' }))).toBe(
      false,
    );
    expect(compileMatch({ region: 'us-*' })(subject())).toBe(true);
    expect(compileMatch({ region: 'eu-*' })(subject())).toBe(false);
  });

  it('needs every field to match', () => {
    const matcher = compileMatch({ eventSource: 'ec2.amazonaws.com', eventName: 'Run*', direction: 'spike' });
    expect(matcher(subject())).toBe(true);
    expect(matcher(subject({ direction: 'drop' }))).toBe(false);
    expect(matcher(subject({ eventName: 'StopInstances' }))).toBe(false);
  });

  it('matches errorCode and insightType only on findings that have them', () => {
    const matcher = compileMatch({ insightType: 'ApiErrorRateInsight', errorCode: 'Access*' });
    expect(matcher(subject())).toBe(false);
    expect(matcher(subject({ insightType: 'ApiErrorRateInsight', errorCode: 'AccessDenied' }))).toBe(true);
    expect(matcher(subject({ insightType: 'ApiErrorRateInsight', errorCode: 'Throttling' }))).toBe(false);
  });

  it('matches identity and user agent patterns against the top contributor only', () => {
    expect(compileMatch({ userIdentityArn: 'arn:aws:sts::*:assumed-role/deploy-bot/*' })(subject())).toBe(true);
    // alice contributes, but is not the top contributor.
    expect(compileMatch({ userIdentityArn: '*:user/alice' })(subject())).toBe(false);
    expect(compileMatch({ userAgent: 'terraform/*' })(subject())).toBe(true);
    expect(compileMatch({ userAgent: 'aws-cli/*' })(subject())).toBe(false);
  });

  it('does not match an attribution pattern when the record names no contributor', () => {
    expect(compileMatch({ userAgent: '*' })(subject({}, []))).toBe(false);
    expect(compileMatch({ eventName: '*' })(subject({}, []))).toBe(true);
  });
});

describe('compileMatch: newActor', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/new-role';
  const withActors = (userIdentityArn: string[], userAgent: string[]) =>
    subject({ newActors: { userIdentityArn, userAgent } });

  it('matches on the finding\u2019s new identities and user agents, alone with other fields', () => {
    const none = withActors([], []);
    const role = withActors([ROLE], []);
    const agent = withActors([], ['boto3/1.34']);
    const expectations: Array<[string, boolean, boolean, boolean]> = [
      // kind, on none, on a new role, on a new user agent
      ['any', false, true, true],
      ['identity', false, true, false],
      ['userAgent', false, false, true],
      ['none', true, false, false],
    ];
    for (const [kind, onNone, onRole, onAgent] of expectations) {
      const matcher = compileMatch({ newActor: kind as 'any' });
      expect([kind, matcher(none), matcher(role), matcher(agent)]).toEqual([kind, onNone, onRole, onAgent]);
    }
    expect(compileMatch({ eventName: 'Run*', newActor: 'identity' })(role)).toBe(true);
    expect(compileMatch({ eventName: 'Stop*', newActor: 'identity' })(role)).toBe(false);
  });

  it('matches no kind, not even none, on a finding stored before new actors existed', () => {
    for (const kind of ['any', 'identity', 'userAgent', 'none'] as const)
      expect(compileMatch({ newActor: kind })(subject())).toBe(false);
  });
});

describe('topContributor', () => {
  it('is the first value of the insight list of that attribute', () => {
    const { start } = subject().records;
    expect(topContributor(start, 'userIdentityArn')).toBe('arn:aws:sts::123456789012:assumed-role/deploy-bot/run-42');
    expect(topContributor(start, 'errorCode')).toBeUndefined();
  });
});
