import type { CloudTrailRecord } from '@trailsight/domain';
import { checkRecordInto, newCheckedRecord, parseRecord } from './record-parser.js';
import { fromLookupEvent } from './record-reader.js';
import { accountRegionOf, identityKey, toSlimEvent } from './slim-event.js';

const record: CloudTrailRecord = {
  eventVersion: '1.09',
  userIdentity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLE:session',
    arn: 'arn:aws:sts::111122223333:assumed-role/Admin/session',
    accountId: '111122223333',
  },
  eventTime: '2024-07-30T21:31:21Z',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  awsRegion: 'eu-west-1',
  userAgent: 'aws-cli/2.13.5',
  errorCode: 'Client.UnauthorizedOperation',
  eventID: '450230d4-b39e-4a18-a6a0-d07a6e2105cb',
  readOnly: false,
  recipientAccountId: '444455556666',
};

describe('toSlimEvent', () => {
  it('keeps what the detector needs, with eventTime as epoch ms', () => {
    expect(toSlimEvent(record)).toEqual({
      eventId: '450230d4-b39e-4a18-a6a0-d07a6e2105cb',
      eventTimeMs: Date.UTC(2024, 6, 30, 21, 31, 21),
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      readOnly: false,
      errorCode: 'Client.UnauthorizedOperation',
      identity: 'arn:aws:sts::111122223333:assumed-role/Admin/session',
      userAgent: 'aws-cli/2.13.5',
    });
  });

  it('leaves errorCode out on success, userAgent empty without one, and infers readOnly when absent', () => {
    const { errorCode: _e, userAgent: _u, readOnly: _r, ...bare } = record;
    const slim = toSlimEvent({ ...bare, eventName: 'DescribeInstances' });
    expect('errorCode' in slim).toBe(false);
    expect(slim.userAgent).toBe('');
    expect(slim.readOnly).toBe(true);
  });

  it("carries a data event's category, and none for management events (absent means Management)", () => {
    const getObject = { ...record, eventSource: 's3.amazonaws.com', eventName: 'GetObject', readOnly: true };
    expect(toSlimEvent({ ...getObject, eventCategory: 'Data' }).eventCategory).toBe('Data');
    expect('eventCategory' in toSlimEvent({ ...record, eventCategory: 'Management' })).toBe(false);
    expect('eventCategory' in toSlimEvent(record)).toBe(false);
    expect(toSlimEvent({ ...record, eventCategory: 'NetworkActivity' }).eventCategory).toBe('NetworkActivity');
    // A category CloudTrail may add later is carried as Other: never counted, never a new label.
    expect(toSlimEvent({ ...record, eventCategory: 'Telemetry' }).eventCategory).toBe('Other');
    // The LookupEvents path too (it only returns management events, but a record says what it is).
    const fromLookup = fromLookupEvent({
      EventId: getObject.eventID,
      CloudTrailEvent: JSON.stringify({ ...getObject, eventCategory: 'Data' }),
    });
    expect(fromLookup.ok && toSlimEvent(fromLookup.record).eventCategory).toBe('Data');
  });

  it('cuts a forged userAgent to the 1 KB AWS allows', () => {
    expect(toSlimEvent({ ...record, userAgent: 'x'.repeat(100_000) }).userAgent).toHaveLength(1024);
  });

  it('gives an IdentityCenterUser record, which has no arn, a stable identity key', () => {
    const parsed = parseRecord({
      ...record,
      userIdentity: {
        type: 'IdentityCenterUser',
        accountId: '111122223333',
        onBehalfOf: {
          userId: '544894e8-80c1-707f-60e3-3ba6510dfac1',
          identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-9067642ac7',
        },
        credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
      },
    });
    if (!parsed.ok) throw new Error(parsed.reject.detail);
    expect(toSlimEvent(parsed.record).identity).toBe(
      'identitycenter:arn:aws:identitystore::111122223333:identitystore/d-9067642ac7/544894e8-80c1-707f-60e3-3ba6510dfac1',
    );
  });
});

describe('identityKey', () => {
  it.each([
    [
      { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/anaya', principalId: 'AIDA1' },
      'arn:aws:iam::111122223333:user/anaya',
    ],
    [{ type: 'AWSService', invokedBy: 'ec2.amazonaws.com' }, 'service:ec2.amazonaws.com'],
    [{ type: 'AWSService' }, 'service:unknown'],
    // a failed console sign-in: AWS logs no arn
    [
      { type: 'IAMUser', principalId: 'AIDACKCEVSQ6C2EXAMPLE', accountId: '111122223333', accessKeyId: '' },
      'IAMUser:AIDACKCEVSQ6C2EXAMPLE',
    ],
    [
      { type: 'IAMUser', accountId: '111122223333', userName: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      'IAMUser:111122223333',
    ],
    [{ type: 'IdentityCenterUser', accountId: '111122223333' }, 'IdentityCenterUser:111122223333'],
    [{ arn: '' }, 'Unknown:unknown'],
    [undefined, 'Unknown:unknown'],
    [{ arn: 'arn:aws:iam::1:user/a\nb' }, 'arn:aws:iam::1:user/a b'],
  ])('%j -> %s', (identity, key) => {
    expect(identityKey(identity)).toBe(key);
  });
});

describe('accountRegionOf', () => {
  it('uses recipientAccountId first', () => {
    expect(accountRegionOf(record, '999999999999')).toEqual({ accountId: '444455556666', region: 'eu-west-1' });
  });

  it("prefers the trail file's account to the caller's when recipientAccountId is missing (eventVersion 1.01)", () => {
    const { recipientAccountId: _, ...old } = record;
    expect(accountRegionOf(old, '999999999999')?.accountId).toBe('999999999999');
    expect(accountRegionOf(old)?.accountId).toBe('111122223333');
  });

  it('is undefined when no account can be found, and skips values that are no account id', () => {
    const { recipientAccountId: _, ...old } = record;
    const service = { ...old, userIdentity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' } };
    expect(accountRegionOf(service)).toBeUndefined();
    expect(accountRegionOf({ ...service, recipientAccountId: '{1}:x' }, '123456789012')?.accountId).toBe(
      '123456789012',
    );
    expect(accountRegionOf({ ...service, recipientAccountId: 'unknown' }, 'abc')).toBeUndefined();
  });
});

describe('toSlimEvent of an uncopied record (the trail-file path)', () => {
  /** What parseRecord, toSlimEvent and accountRegionOf make of a value: the uncopied path must match. */
  function viaRecord(value: unknown, fallback?: string) {
    const result = parseRecord(value);
    if (!result.ok) return result;
    return { ok: true as const, event: toSlimEvent(result.record), source: accountRegionOf(result.record, fallback) };
  }

  const checked = newCheckedRecord();
  function uncopied(value: unknown, fallback?: string) {
    const reject = checkRecordInto(value, checked);
    if (reject) return { ok: false as const, reject };
    const record = checked.fields as unknown as CloudTrailRecord;
    return { ok: true as const, event: toSlimEvent(record, checked), source: accountRegionOf(record, fallback) };
  }

  it('gives what parseRecord, toSlimEvent and accountRegionOf give, for 5,000 mutated records', () => {
    const replacements: unknown[] = [
      undefined,
      null,
      '',
      '  ',
      '\u00a0',
      42,
      true,
      'true',
      'false',
      {},
      [],
      'x\ny',
      'AccessDenied',
      '2024-02-30T00:00:00Z',
      '2024-07-30T21:31:21.250Z',
      'a'.repeat(300),
      'eu-west-1',
      '123456789012',
      'Management',
      'Data',
      'NetworkActivity',
      'Insight',
    ];
    const fields = [
      ...Object.keys(record),
      'userIdentity.arn',
      'userIdentity.type',
      'userIdentity.accountId',
      'eventType',
      'eventCategory',
      'insightDetails',
    ];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const outcomes = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const value = structuredClone(record) as unknown as Record<string, unknown>;
      for (let k = 0; k <= next(3); k++) {
        const [field, inner] = fields[next(fields.length)].split('.');
        const replacement = replacements[next(replacements.length)];
        const target = (inner ? value[field] : value) as Record<string, unknown> | null;
        const key = inner ?? field;
        if (typeof target !== 'object' || target === null) continue;
        if (replacement === undefined) delete target[key];
        else target[key] = replacement;
      }
      const fallback = next(2) === 0 ? '999988887777' : undefined;
      const expected = viaRecord(value, fallback);
      expect(uncopied(value, fallback)).toEqual(expected);
      outcomes.add(expected.ok ? 'ok' : expected.reject.reason);
    }
    expect([...outcomes].sort()).toEqual(['insight-record', 'invalid-field', 'missing-field', 'ok']);
  });

  it('rejects what parseRecord rejects, with the same reason and detail', () => {
    expect(uncopied(42)).toEqual(parseRecord(42));
    expect(uncopied({ ...record, eventTime: 'yesterday' })).toEqual(parseRecord({ ...record, eventTime: 'yesterday' }));
  });
});
