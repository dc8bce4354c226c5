import {
  checkRecordInto,
  eventTimeMs,
  newCheckedRecord,
  parseRecord,
  type RecordResult,
  type Reject,
} from './record-parser.js';
import { SAMPLE_LIMIT } from './reject-sample.js';

const record = {
  eventVersion: '1.08',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/anaya', accountId: '111122223333' },
  eventTime: '2024-07-19T21:33:41Z',
  eventSource: 'cloudtrail.amazonaws.com',
  eventName: 'StartLogging',
  awsRegion: 'us-east-1',
  eventID: 'eae87c48-d421-4626-94f5-EXAMPLEac994',
  readOnly: false,
  recipientAccountId: '111122223333',
};

function rejected(result: RecordResult): Reject {
  if (result.ok) throw new Error(`expected a reject, got record ${result.record.eventID}`);
  return result.reject;
}

describe('parseRecord', () => {
  it('accepts a current record as it is', () => {
    expect(parseRecord(record)).toEqual({ ok: true, record });
  });

  it('fills readOnly from the event name when the record lacks it (eventVersion 1.01)', () => {
    const { readOnly: _, ...old } = record;
    const write = parseRecord({ ...old, eventVersion: '1.01' });
    const read = parseRecord({ ...old, eventName: 'DescribeTrails' });
    expect(write.ok && write.record.readOnly).toBe(false);
    expect(read.ok && read.record.readOnly).toBe(true);
  });

  it('takes readOnly given as the strings "true"/"false", and drops a null or empty errorCode', () => {
    const result = parseRecord({ ...record, readOnly: 'true', errorCode: null });
    expect(result).toEqual({ ok: true, record: { ...record, readOnly: true } });
    const empty = parseRecord({ ...record, errorCode: '' });
    expect(empty.ok && 'errorCode' in empty.record).toBe(false);
  });

  it('accepts fractional seconds and offsets in eventTime', () => {
    expect(parseRecord({ ...record, eventTime: '2024-07-19T21:33:41.123Z' }).ok).toBe(true);
    expect(parseRecord({ ...record, eventTime: '2024-07-19T23:33:41+02:00' }).ok).toBe(true);
  });

  it('rejects a record without eventTime, naming the field and keeping its eventID', () => {
    const { eventTime: _, ...noTime } = record;
    const reject = rejected(parseRecord(noTime));
    expect(reject).toMatchObject({ reason: 'missing-field', detail: 'eventTime is missing', eventId: record.eventID });
    expect(JSON.parse(reject.sample!)).toEqual(noTime);
  });

  it.each(['', '   '])('rejects an empty required field (%j)', (empty) => {
    expect(rejected(parseRecord({ ...record, eventName: empty }))).toMatchObject({
      reason: 'missing-field',
      detail: 'eventName is empty',
    });
  });

  it.each([
    ['yesterday'],
    ['2024-02-30T00:00:00Z'], // Date.parse would roll this over to March 1st
    ['2024-13-01T00:00:00Z'],
    ['2024-07-19 21:33:41'], // no zone: ambiguous
    ['2024-07-19'],
  ])('rejects the invalid eventTime %j', (eventTime) => {
    const reject = rejected(parseRecord({ ...record, eventTime }));
    expect(reject.reason).toBe('invalid-field');
    expect(reject.detail).toContain('eventTime is not an ISO-8601 time');
  });

  it.each([
    [{ eventTime: 1721424821 }, 'eventTime must be a string, got a number'],
    [{ eventName: 42 }, 'eventName must be a string, got a number'],
    [{ eventID: ['a'] }, 'eventID must be a string, got an array of 1 item'],
    [{ awsRegion: { name: 'x' } }, 'awsRegion must be a string, got an object with keys name'],
    [{ readOnly: 'yes' }, 'readOnly must be a boolean, got a string ("yes")'],
    [{ errorCode: { code: 1 } }, 'errorCode must be a string, got an object with keys code'],
    [{ userIdentity: 'root' }, 'userIdentity must be an object, got a string ("root")'],
    [{ userAgent: 7 }, 'userAgent must be a string, got a number'],
    [{ recipientAccountId: 111122223333 }, 'recipientAccountId must be a string, got a number'],
  ])('rejects wrong types: %j', (override, detail) => {
    expect(rejected(parseRecord({ ...record, ...override }))).toMatchObject({ reason: 'invalid-field', detail });
  });

  it('rejects identifiers that would corrupt keys or queue fields', () => {
    const cases = [
      { eventID: 'two words' },
      { eventName: 'Put\nObject' },
      { eventSource: 'x'.repeat(257) },
      { awsRegion: '{us-east-1}' },
      { awsRegion: 'us:east' },
      { errorCode: 'Access\rDenied' },
      // The counter-field separator would let a name forge another series.
      { eventName: 'RunInstances|AccessDenied' },
      { eventSource: 'ec2.amazonaws.com|x' },
      { awsRegion: 'moon' },
    ];
    for (const override of cases) {
      expect(rejected(parseRecord({ ...record, ...override })).reason).toBe('invalid-field');
    }
  });

  it('names the refused identifier, and takes the anonymised regions of published datasets', () => {
    expect(rejected(parseRecord({ ...record, eventName: 'Run|Instances' })).detail).toBe(
      "eventName must be 1-256 characters without '|' or control characters",
    );
    expect(rejected(parseRecord({ ...record, awsRegion: 'us:east' })).detail).toMatch(/^awsRegion must look like/);
    expect(parseRecord({ ...record, awsRegion: 'sagov-westsouth-1r' }).ok).toBe(true);
  });

  it.each([[null], [undefined], [42], ['{"eventID":"x"}'], [true], [[1, 2]]])('rejects %j as not-an-object', (raw) => {
    expect(rejected(parseRecord(raw)).reason).toBe('not-an-object');
  });

  it('rejects Insights records: they are output, not input', () => {
    const insight = {
      eventVersion: '1.07',
      eventTime: '2020-07-21T20:56:00Z',
      awsRegion: 'us-east-1',
      eventID: 'abcd00b0-ccfe-422d-961c-98a2198a408x',
      eventType: 'AwsCloudTrailInsight',
      insightDetails: { state: 'Start' },
      eventCategory: 'Insight',
    };
    expect(rejected(parseRecord(insight))).toMatchObject({ reason: 'insight-record', eventId: insight.eventID });
    expect(rejected(parseRecord({ ...record, eventCategory: 'Insight' })).reason).toBe('insight-record');
  });

  it('reads eventCategory: Data and NetworkActivity as given, absent or null as Management', () => {
    const categoryOf = (value: unknown) => {
      const checked = newCheckedRecord();
      expect(checkRecordInto(value, checked)).toBeUndefined();
      return checked.eventCategory;
    };
    const getObject = { ...record, eventSource: 's3.amazonaws.com', eventName: 'GetObject', readOnly: true };
    expect(categoryOf({ ...getObject, eventCategory: 'Data' })).toBe('Data');
    expect(categoryOf({ ...record, eventCategory: 'NetworkActivity' })).toBe('NetworkActivity');
    expect(categoryOf({ ...record, eventCategory: 'Management' })).toBe('Management');
    expect(categoryOf({ ...record, eventCategory: null })).toBe('Management');
    expect(categoryOf(record)).toBe('Management');
    // A data event is a valid record, kept as it came (its category decides where it is counted).
    expect(parseRecord({ ...getObject, eventCategory: 'Data' })).toEqual({
      ok: true,
      record: { ...getObject, eventCategory: 'Data' },
    });
    expect(rejected(parseRecord({ ...record, eventCategory: 7 }))).toMatchObject({
      reason: 'invalid-field',
      detail: 'eventCategory must be a string, got a number',
    });
  });

  it('keeps a record with a huge free-text field, and cuts the sample of a huge bad one to 2 KB', () => {
    const huge = 'x'.repeat(10_000_000);
    expect(parseRecord({ ...record, userAgent: huge }).ok).toBe(true);
    const reject = rejected(parseRecord({ ...record, eventName: huge }));
    expect(reject.reason).toBe('invalid-field');
    expect(reject.sample!.length).toBeLessThanOrEqual(SAMPLE_LIMIT);
    expect(rejected(parseRecord({ ...record, eventID: huge })).eventId!.length).toBeLessThanOrEqual(256);
  });

  it('survives deep nesting: 100,000 nested arrays or objects', () => {
    const arrays: unknown = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    const reject = rejected(parseRecord(arrays));
    expect(reject.reason).toBe('not-an-object');
    expect(reject.sample!.length).toBeLessThanOrEqual(SAMPLE_LIMIT);
    expect(reject.sample!.startsWith('[[[[')).toBe(true);

    const nested: unknown = JSON.parse('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000));
    const inParameters = parseRecord({ ...record, requestParameters: nested });
    expect(inParameters.ok).toBe(true);
    const { eventTime: _, ...noTime } = record;
    expect(rejected(parseRecord({ ...noTime, requestParameters: nested })).sample!.length).toBeLessThanOrEqual(
      SAMPLE_LIMIT,
    );
  });

  it('never throws, even for an object whose getters throw', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    expect(rejected(parseRecord(hostile))).toMatchObject({
      reason: 'invalid-field',
      detail: expect.stringContaining('boom'),
    });
  });
});

describe('eventTimeMs', () => {
  /** The regular-expression + Date.parse reading every form goes through when the fast one declines. */
  function general(text: string): number | undefined {
    const match = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/.exec(text);
    if (!match) return undefined;
    const ms = Date.parse(text);
    const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
    if (Number.isNaN(ms) || date.getUTCMonth() !== Number(match[2]) - 1 || date.getUTCDate() !== Number(match[3]))
      return undefined;
    return ms;
  }

  it.each([
    '2024-07-19T21:33:41Z',
    '2024-02-29T00:00:00Z',
    '2023-02-29T00:00:00Z', // not a leap year
    '2100-02-29T12:00:00Z', // not a leap year either
    '2000-02-29T12:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-07-19T24:00:00Z',
    '2024-07-19T23:60:00Z',
    '2024-07-19T23:59:60Z',
    '0099-07-19T21:33:41Z',
    '2024-07-1xT21:33:41Z',
    '2024-07-19 21:33:41Z',
    '2024-07-19T21:33:41.5Z',
    '2024-07-19T23:33:41+02:00',
    '+02024-07-19T21:33:41Z',
  ])('reads %s as Date.parse with the calendar check does', (text) => {
    expect(eventTimeMs(text)).toEqual(general(text));
  });

  it('agrees with the general reading on 20,000 random canonical-shaped times', () => {
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pad = (value: number, width: number) => String(value).padStart(width, '0');
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = `${pad(1990 + next(120), 4)}-${pad(next(14), 2)}-${pad(next(33), 2)}T${pad(next(26), 2)}:${pad(next(62), 2)}:${pad(next(62), 2)}Z`;
      const expected = general(text);
      expect(eventTimeMs(text)).toEqual(expected);
      if (expected !== undefined) valid++;
    }
    expect(valid).toBeGreaterThan(5_000); // both kinds were exercised
    expect(valid).toBeLessThan(20_000);
  });
});
