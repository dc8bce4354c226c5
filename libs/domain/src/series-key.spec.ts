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

  describe('event categories', () => {
    const getObject: SlimEvent = {
      ...write,
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      readOnly: true,
      eventCategory: 'Data',
    };

    it('counts a data event, read or write, only into data fields', () => {
      expect(counterFields(getObject)).toEqual([
        'dc|s3.amazonaws.com|GetObject',
        `dcu|s3.amazonaws.com|GetObject|${write.identity}`,
        `dca|s3.amazonaws.com|GetObject|${write.userAgent}`,
      ]);
      const failedPut = { ...getObject, eventName: 'PutObject', readOnly: false, errorCode: 'AccessDenied' };
      const fields = counterFields(failedPut);
      expect(fields.map((f) => f.split('|')[0])).toEqual(['dc', 'dcu', 'dca', 'de', 'deu', 'dea']);
      // Management series never include a data event.
      expect(fields.filter((f) => /^(c|cu|ca|e|eu|ea)\|/.test(f))).toEqual([]);
    });

    it('counts network-activity and unknown categories into nothing', () => {
      expect(counterFields({ ...write, eventCategory: 'NetworkActivity' })).toEqual([]);
      expect(counterFields({ ...write, errorCode: 'X', eventCategory: 'Other' })).toEqual([]);
    });

    it('round-trips data series keys and leaves management keys as they were', () => {
      const keys: SeriesKey[] = [
        {
          insightType: 'ApiCallRateInsight',
          eventSource: 's3.amazonaws.com',
          eventName: 'GetObject',
          eventCategory: 'Data',
        },
        {
          insightType: 'ApiErrorRateInsight',
          eventSource: 'lambda.amazonaws.com',
          eventName: 'Invoke',
          errorCode: 'a|b',
          eventCategory: 'Data',
        },
      ];
      for (const key of keys) {
        expect(seriesField(key).startsWith('d')).toBe(true);
        expect(isSeriesField(seriesField(key))).toBe(true);
        expect(parseSeriesField(seriesField(key))).toEqual(key);
      }
      // Management: the same field with or without the category spelled out.
      const management: SeriesKey = {
        insightType: 'ApiCallRateInsight',
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
      };
      expect(seriesField({ ...management, eventCategory: 'Management' })).toBe('c|ec2.amazonaws.com|RunInstances');
      expect(parseSeriesField('c|ec2.amazonaws.com|RunInstances')).toEqual(management);
      for (const field of counterFields({ ...getObject, errorCode: 'Oops' })) {
        expect(parseSeriesField(field) !== undefined).toBe(isSeriesField(field));
      }
      for (const notSeries of ['dcu|a|b|arn', 'dea|a|b|c|ua', 'dc|nameless', 'de|a|b', 'd|a|b', 'dx|a|b']) {
        expect(parseSeriesField(notSeries)).toBeUndefined();
      }
    });

    it('names the attribution fields of a data series', () => {
      const fields = counterFields({ ...getObject, errorCode: 'NoSuchKey' });
      const calls = parseSeriesField('dc|s3.amazonaws.com|GetObject')!;
      const errors = parseSeriesField('de|s3.amazonaws.com|GetObject|NoSuchKey')!;
      const valuesOf = (prefix: string | undefined) =>
        fields.filter((f) => prefix !== undefined && f.startsWith(prefix)).map((f) => f.slice(prefix!.length));
      expect(valuesOf(attributionFieldPrefix(calls, 'userIdentityArn'))).toEqual([write.identity]);
      expect(valuesOf(attributionFieldPrefix(calls, 'errorCode'))).toEqual(['NoSuchKey']);
      expect(valuesOf(attributionFieldPrefix(errors, 'userAgent'))).toEqual([write.userAgent]);
    });
  });
});
