import { tuningScopeProblems, tuningSettingsProblems } from './tuning-settings.js';

describe('tuningSettingsProblems', () => {
  it('accepts every setting in range, and an empty object', () => {
    expect(tuningSettingsProblems({ sensitivity: 1, minVolume: 0, endAfterNormalMinutes: 1440, drops: false })).toEqual(
      [],
    );
    expect(tuningSettingsProblems({})).toEqual([]);
  });

  it('names each wrong field with its path', () => {
    expect(
      tuningSettingsProblems(
        { sensitivity: 11, minVolume: -1, endAfterNormalMinutes: 2.5, drops: 'no', sensitivty: 3 },
        'settings',
      ),
    ).toEqual([
      'settings.sensitivity must be a number from 1 to 10, got 11',
      'settings.minVolume must be a number from 0 to 1000000, got -1',
      'settings.endAfterNormalMinutes must be a whole number from 1 to 1440, got 2.5',
      'settings.drops must be true or false, got "no"',
      'settings: unknown setting "sensitivty" (sensitivity, minVolume, endAfterNormalMinutes, drops)',
    ]);
    expect(tuningSettingsProblems({ sensitivity: '5' })).toEqual([
      'settings.sensitivity must be a number from 1 to 10, got "5"',
    ]);
    expect(tuningSettingsProblems([], 'x')).toEqual(['x must be an object']);
    expect(tuningSettingsProblems({ toString: 2 })).toEqual([expect.stringMatching(/unknown setting "toString"/)]);
  });
});

describe('tuningScopeProblems', () => {
  it('accepts any subset of account, region, service and API', () => {
    expect(tuningScopeProblems({})).toEqual([]);
    expect(
      tuningScopeProblems({
        accountId: '123456789012',
        region: 'us-east-1',
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
      }),
    ).toEqual([]);
  });

  it('names each wrong field, an unknown one, and an API without its service', () => {
    expect(tuningScopeProblems({ accountId: '12', region: 'Mars', eventName: 'Run|x', team: 'a' })).toEqual([
      'scope: unknown field "team" (accountId, region, eventSource, eventName)',
      'scope.accountId must be a 12-digit AWS account id',
      "scope.region must look like an AWS region (us-east-1): lowercase letters and digits joined by '-'",
      "scope.eventName must be 1-256 characters without '|' or control characters",
      'scope.eventName needs scope.eventSource: an API is its service and its name',
    ]);
  });
});
