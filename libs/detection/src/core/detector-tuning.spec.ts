import { DEFAULT_TUNING, orderLayers, overrideLayers, resolveLayers, type TuningLayer } from './detector-tuning.js';

const series = {
  accountId: '111111111111',
  region: 'us-east-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
};

describe('scoped tuning precedence', () => {
  const layers: TuningLayer[] = [
    {
      scope: { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
      settings: { sensitivity: 2 },
      origin: 'api',
    },
    { scope: {}, settings: { sensitivity: 9, minVolume: 7, drops: false }, origin: 'api' },
    { scope: { accountId: '111111111111' }, settings: { minVolume: 11 }, origin: 'api' },
    { scope: { region: 'us-east-1' }, settings: { minVolume: 5 }, origin: 'api' },
    {
      scope: { accountId: '111111111111', eventSource: 'ec2.amazonaws.com' },
      settings: { sensitivity: 4, endAfterNormalMinutes: 9 },
      origin: 'api',
    },
  ];

  it('lets the most specific scope win each setting, and inherits the rest from wider scopes', () => {
    expect(resolveLayers(DEFAULT_TUNING, orderLayers(layers), series)).toEqual({
      sensitivity: 2, // the API beats account + service
      minVolume: 5, // region beats account
      endAfterNormalMinutes: 9, // only account + service sets it
      drops: false, // only the global layer sets it
    });
  });

  it('applies only layers whose every scope field matches the series', () => {
    const other = { ...series, accountId: '222222222222', eventName: 'StopInstances' };
    expect(resolveLayers(DEFAULT_TUNING, orderLayers(layers), other)).toEqual({
      sensitivity: 9,
      minVolume: 5,
      endAfterNormalMinutes: DEFAULT_TUNING.endAfterNormalMinutes,
      drops: false,
    });
    const elsewhere = { ...other, region: 'eu-west-1' };
    expect(resolveLayers(DEFAULT_TUNING, orderLayers(layers), elsewhere).minVolume).toBe(7);
  });

  it('puts DETECTOR_OVERRIDES beneath /v1/tuning at the same scope, but not beneath a wider one', () => {
    const env = overrideLayers({
      'ec2.amazonaws.com:RunInstances': { sensitivity: 3, minVolume: 20 },
      'ec2.amazonaws.com:*': { drops: false },
    });
    expect(env.map((l) => l.scope)).toEqual([
      { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
      { eventSource: 'ec2.amazonaws.com' },
    ]);
    const api: TuningLayer[] = [
      {
        scope: { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
        settings: { sensitivity: 6 },
        origin: 'api',
      },
      { scope: { eventSource: 'ec2.amazonaws.com' }, settings: { minVolume: 1 }, origin: 'api' },
    ];
    // Given in either order, the result is the same.
    for (const all of [
      [...env, ...api],
      [...api, ...env],
    ]) {
      expect(resolveLayers(DEFAULT_TUNING, orderLayers(all), series)).toEqual({
        sensitivity: 6, // api over env at the API scope
        minVolume: 20, // env at the API scope over api at the service scope
        endAfterNormalMinutes: DEFAULT_TUNING.endAfterNormalMinutes,
        drops: false,
      });
    }
  });

  it('refuses a result the detector cannot use', () => {
    expect(() =>
      resolveLayers(DEFAULT_TUNING, [{ scope: {}, settings: { sensitivity: 0 }, origin: 'api' }], series),
    ).toThrow(/tuning.sensitivity must be a number from 1 to 10/);
  });
});
