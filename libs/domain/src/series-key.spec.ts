import type { SlimEvent } from './slim-event.js';
import {
  attributionFieldPrefix,
  callSeriesField,
  counterFields,
  errorSeriesField,
  isSeriesField,
  parseSeriesField,
  seriesField,
  type SeriesKey,
} from './series-key.js';

const write: SlimEvent = {
  eventId: 'e1',
  eventTimeMs: 0,
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  readOnly: false,
  identity: 'arn:aws:iam::123456789012:user/alice',
  userAgent: 'Boto3/1.34 md/x|y',
};

describe('series-key codec', () => {
  it('writes the fields Redis already holds', () => {
    expect(callSeriesField('ec2.amazonaws.com', 'RunInstances')).toBe('c|ec2.amazonaws.com|RunInstances');
    expect(errorSeriesField('s3.amazonaws.com', 'GetObject', 'AccessDenied')).toBe(
      'e|s3.amazonaws.com|GetObject|AccessDenied',
    );
    expect(counterFields({ ...write, errorCode: 'Client.UnauthorizedOperation' })).toEqual([
      'c|ec2.amazonaws.com|RunInstances',
      'cu|ec2.amazonaws.com|RunInstances|arn:aws:iam::123456789012:user/alice',
      'ca|ec2.amazonaws.com|RunInstances|Boto3/1.34 md/x|y',
      'e|ec2.amazonaws.com|RunInstances|Client.UnauthorizedOperation',
      'eu|ec2.amazonaws.com|RunInstances|Client.UnauthorizedOperation|arn:aws:iam::123456789012:user/alice',
      'ea|ec2.amazonaws.com|RunInstances|Client.UnauthorizedOperation|Boto3/1.34 md/x|y',
    ]);
  });

  it('counts nothing for a successful read, only errors for a failed one', () => {
    expect(counterFields({ ...write, readOnly: true })).toEqual([]);
    expect(counterFields({ ...write, readOnly: true, errorCode: 'AccessDenied' }).map((f) => f.split('|')[0])).toEqual([
      'e',
      'eu',
      'ea',
    ]);
  });

  it('keeps a user agent on one line: fields travel newline-separated', () => {
    expect(counterFields({ ...write, userAgent: 'a\r\nb\nc' })).toContain('ca|ec2.amazonaws.com|RunInstances|a b c');
  });

  it('reads back every series it writes, and only series', () => {
    const keys: SeriesKey[] = [
      { insightType: 'ApiCallRateInsight', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
      {
        insightType: 'ApiErrorRateInsight',
        eventSource: 's3.amazonaws.com',
        eventName: 'GetObject',
        errorCode: 'AccessDenied',
      },
      // An error code is last, so even one with the separator reads back whole.
      { insightType: 'ApiErrorRateInsight', eventSource: 'x.amazonaws.com', eventName: 'Y', errorCode: 'a|b' },
    ];
    for (const key of keys) {
      expect(isSeriesField(seriesField(key))).toBe(true);
      expect(parseSeriesField(seriesField(key))).toEqual(key);
    }
    for (const field of counterFields({ ...write, errorCode: 'Oops' })) {
      expect(parseSeriesField(field) !== undefined).toBe(isSeriesField(field));
    }
    for (const notSeries of ['cu|a|b|arn', 'ea|a|b|c|ua', 'c|nameless', 'e|a|b', 'x|a|b', '']) {
      expect(parseSeriesField(notSeries)).toBeUndefined();
    }
  });

  it('names the attribution fields of a series by their prefix', () => {
    const calls = parseSeriesField('c|ec2.amazonaws.com|RunInstances')!;
    const errors = parseSeriesField('e|ec2.amazonaws.com|RunInstances|Client.UnauthorizedOperation')!;
    const fields = counterFields({ ...write, errorCode: 'Client.UnauthorizedOperation' });
    const valuesOf = (prefix: string | undefined) =>
      fields.filter((f) => prefix !== undefined && f.startsWith(prefix)).map((f) => f.slice(prefix!.length));
    expect(valuesOf(attributionFieldPrefix(calls, 'userIdentityArn'))).toEqual([write.identity]);
    expect(valuesOf(attributionFieldPrefix(calls, 'userAgent'))).toEqual([write.userAgent]);
    expect(valuesOf(attributionFieldPrefix(calls, 'errorCode'))).toEqual(['Client.UnauthorizedOperation']);
    expect(valuesOf(attributionFieldPrefix(errors, 'userIdentityArn'))).toEqual([write.identity]);
    expect(valuesOf(attributionFieldPrefix(errors, 'userAgent'))).toEqual([write.userAgent]);
    expect(attributionFieldPrefix(errors, 'errorCode')).toBeUndefined();
  });
});
