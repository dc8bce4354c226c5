import { batchSourceProblem, validateBatchEvents } from './event-batch.validator.js';

describe('validateBatchEvents', () => {
  const good = {
    id: 'e1',
    t: 1_700_000_000_000,
    src: 's3.amazonaws.com',
    name: 'PutObject',
    ro: false,
    arn: 'arn:x',
    ua: '',
  };

  it('keeps valid events and names the problem of each invalid one', () => {
    const { valid, invalid } = validateBatchEvents([
      good,
      { ...good, t: 'yesterday' },
      null,
      { ...good, ro: 'false' },
      { ...good, err: 42 },
    ]);
    expect(valid).toEqual([good]);
    expect(invalid).toEqual([
      { index: 1, detail: 't must be epoch milliseconds' },
      { index: 2, detail: 'event is not an object' },
      { index: 3, detail: 'ro must be a boolean' },
      { index: 4, detail: 'err must be a non-empty string when present' },
    ]);
  });

  it('refuses line breaks where counter fields are built (they travel newline-separated) and white space in ids', () => {
    const breaks = [
      { ...good, src: 's3.amazonaws.com\n' },
      { ...good, name: 'Put\rObject' },
      { ...good, arn: 'arn:x\nc|forged|field' },
      { ...good, err: 'AccessDenied\n' },
      { ...good, id: 'e 1' },
      { ...good, name: 'PutObject|AccessDenied' },
    ];
    const { valid, invalid } = validateBatchEvents([...breaks, { ...good, ua: 'agent\nwith a break' }]);
    expect(invalid.map((problem) => problem.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // User agents are free text: their line breaks are folded when counted, not refused.
    expect(valid).toHaveLength(1);
  });

  it('refuses a payload that is not a list', () => {
    expect(validateBatchEvents({ not: 'a list' }).invalid).toEqual([{ index: -1, detail: 'events is not an array' }]);
  });
});

describe('batchSourceProblem', () => {
  it('accepts an account id and region, names what is wrong otherwise', () => {
    expect(batchSourceProblem({ accountId: '123456789012', region: 'us-east-1' })).toBeUndefined();
    expect(batchSourceProblem({ accountId: '123456789012', region: 'us-gov-west-1' })).toBeUndefined();
    expect(batchSourceProblem(undefined)).toBe('source is not an object');
    expect(batchSourceProblem({ accountId: '12', region: 'us-east-1' })).toMatch(/accountId/);
    expect(batchSourceProblem({ accountId: '123456789012', region: 'moon' })).toMatch(/region/);
    expect(batchSourceProblem({ accountId: 'unknown', region: 'us-east-1' })).toMatch(/accountId/);
  });

  it('takes every account-region the record parser takes (the same check)', () => {
    expect(batchSourceProblem({ accountId: '123456789012', region: 'sagov-westsouth-1r' })).toBeUndefined();
    expect(batchSourceProblem({ accountId: '123456789012', region: '{us-east-1}' })).toMatch(/region/);
  });
});
