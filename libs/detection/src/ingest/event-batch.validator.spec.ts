import { batchSourceProblem, validateBatchEvents } from './event-batch.validator.js';

describe('validateBatchEvents', () => {
  const good = {
    eventId: 'e1',
    eventTimeMs: 1_700_000_000_000,
    eventSource: 's3.amazonaws.com',
    eventName: 'PutObject',
    readOnly: false,
    identity: 'arn:x',
    userAgent: '',
  };
  /** `good` as versions before the long names queued it. */
  const legacy = {
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
      { ...good, eventTimeMs: 'yesterday' },
      null,
      { ...good, readOnly: 'false' },
      { ...good, errorCode: 42 },
    ]);
    expect(valid).toEqual([good]);
    expect(invalid).toEqual([
      { index: 1, detail: 'eventTimeMs must be epoch milliseconds' },
      { index: 2, detail: 'event is not an object' },
      { index: 3, detail: 'readOnly must be a boolean' },
      { index: 4, detail: 'errorCode must be a non-empty string when present' },
    ]);
  });

  it('refuses line breaks where counter fields are built (they travel newline-separated) and white space in ids', () => {
    const breaks = [
      { ...good, eventSource: 's3.amazonaws.com\n' },
      { ...good, eventName: 'Put\rObject' },
      { ...good, identity: 'arn:x\nc|forged|field' },
      { ...good, errorCode: 'AccessDenied\n' },
      { ...good, eventId: 'e 1' },
      { ...good, eventName: 'PutObject|AccessDenied' },
    ];
    const { valid, invalid } = validateBatchEvents([...breaks, { ...good, userAgent: 'agent\nwith a break' }]);
    expect(invalid.map((problem) => problem.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // User agents are free text: their line breaks are folded when counted, not refused.
    expect(valid).toHaveLength(1);
  });

  it('reads jobs queued by versions with the one-letter keys, with the same checks', () => {
    const { valid, invalid } = validateBatchEvents([
      legacy,
      { ...legacy, id: 'e2', err: 'AccessDenied' },
      { ...legacy, t: 'yesterday' },
      { ...legacy, name: 'Put|Object' },
    ]);
    expect(valid).toEqual([good, { ...good, eventId: 'e2', errorCode: 'AccessDenied' }]);
    expect(invalid.map((problem) => problem.index)).toEqual([2, 3]);
  });

  it("takes a data event's category, and jobs queued without one as management events", () => {
    const data = { ...good, eventName: 'GetObject', readOnly: true, eventCategory: 'Data' };
    const { valid, invalid } = validateBatchEvents([good, data, { ...good, eventCategory: 'Insight' }]);
    expect(valid).toEqual([good, data]);
    expect('eventCategory' in valid[0]).toBe(false);
    expect(invalid).toEqual([
      { index: 2, detail: 'eventCategory must be one of Data, NetworkActivity, Other when present' },
    ]);
  });

  it('keeps a well-formed sample and names what is wrong with a bad one', () => {
    const sample = { sourceIPAddress: '198.51.100.7', errorMessage: 'denied', requestParameters: { bucketName: 'b' } };
    const { valid, invalid } = validateBatchEvents([
      { ...good, sample },
      { ...good, sample: { ...sample, requestParameters: null } },
      { ...good, sample: 'yes' },
      { ...good, sample: { requestParameters: null } },
      { ...good, sample: { ...sample, requestParameters: ['a'] } },
      { ...good, sample: { ...sample, requestParameters: { userData: 'x'.repeat(5_000) } } },
      { ...good, sample: { ...sample, errorMessage: 'x'.repeat(2_000) } },
    ]);
    expect(valid).toEqual([
      { ...good, sample },
      { ...good, sample: { ...sample, requestParameters: null } },
    ]);
    expect(invalid).toEqual([
      { index: 2, detail: 'sample must be an object when present' },
      { index: 3, detail: 'sample.sourceIPAddress must be a string of at most 256 characters' },
      { index: 4, detail: 'sample.requestParameters must be an object or null' },
      { index: 5, detail: 'sample.requestParameters must be at most 4096 characters as JSON' },
      { index: 6, detail: 'sample.errorMessage must be a string of at most 1024 characters when present' },
    ]);
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
