import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AccountRegion, type CloudTrailRecord, HOUR_MS, MINUTE_MS } from '@trailsight/domain';
import { inferReadOnly, readRecordsFile } from '@trailsight/cloudtrail';
import { AnomalyValidationError } from './anomaly.js';
import { catalogApis } from './api-catalog.js';
import { TrafficGenerator, trafficRhythm, type TrafficGeneratorOptions } from './traffic-generator.js';

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '210987654321';
const SOURCE: AccountRegion = { accountId: ACCOUNT, region: 'us-east-1' };
// Wednesday 2026-03-04 15:00 UTC: the busiest time of the week.
const PEAK = Date.UTC(2026, 2, 4, 15, 0);

const options: TrafficGeneratorOptions = {
  seed: 7,
  accounts: [ACCOUNT, OTHER_ACCOUNT],
  regions: ['us-east-1', 'eu-west-1'],
  eventsPerMinute: 300,
};

function minutes(generator: TrafficGenerator, source: AccountRegion, from: number, count: number): CloudTrailRecord[] {
  const out: CloudTrailRecord[] = [];
  for (let i = 0; i < count; i++) out.push(...generator.eventsForMinute(source, from + i * MINUTE_MS));
  return out;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

const apiOf = (r: CloudTrailRecord) => `${r.eventSource} ${r.eventName}`;
/** Whole-minute equality without dumping thousands of records on failure. */
const same = (a: readonly CloudTrailRecord[], b: readonly CloudTrailRecord[]) =>
  JSON.stringify(a) === JSON.stringify(b);

describe('TrafficGenerator', () => {
  describe('determinism', () => {
    it('gives the same events for the same seed, source and minute, whatever else was generated', () => {
      const a = new TrafficGenerator(options);
      const b = new TrafficGenerator({ ...options, cacheEvents: 1 });
      const first = a.eventsForMinute(SOURCE, PEAK);
      minutes(b, SOURCE, PEAK - 30 * MINUTE_MS, 60); // other minutes first, cache of one event: regenerated
      expect(first.length).toBeGreaterThan(200);
      expect(same(b.eventsForMinute(SOURCE, PEAK), first)).toBe(true);
      expect(same(b.eventsForMinute(SOURCE, PEAK + 17_000), first)).toBe(true); // any ms of the minute
    });

    it('differs between seeds, accounts, regions and minutes', () => {
      const generator = new TrafficGenerator(options);
      const ids = (records: readonly CloudTrailRecord[]) => new Set(records.map((r) => r.eventID));
      const base = ids(generator.eventsForMinute(SOURCE, PEAK));
      const others = [
        new TrafficGenerator({ ...options, seed: 8 }).eventsForMinute(SOURCE, PEAK),
        generator.eventsForMinute({ accountId: OTHER_ACCOUNT, region: 'us-east-1' }, PEAK),
        generator.eventsForMinute({ accountId: ACCOUNT, region: 'eu-west-1' }, PEAK),
        generator.eventsForMinute(SOURCE, PEAK + MINUTE_MS),
      ];
      for (const records of others) {
        expect(records.length).toBeGreaterThan(0);
        expect(records.filter((r) => base.has(r.eventID))).toHaveLength(0);
      }
    });

    it('refuses account-regions it does not serve', () => {
      const generator = new TrafficGenerator(options);
      expect(() => generator.eventsForMinute({ accountId: ACCOUNT, region: 'ap-south-1' }, PEAK)).toThrow(/not served/);
    });
  });

  describe('records', () => {
    const generator = new TrafficGenerator(options);
    const records = minutes(generator, SOURCE, PEAK, 30);

    it('are full CloudTrail management records, one minute each, oldest first', () => {
      expect(records.length).toBeGreaterThan(5000);
      const misplaced: string[] = [];
      for (let i = 0; i < 30; i++) {
        const minute = generator.minute(SOURCE, PEAK + i * MINUTE_MS);
        minute.records.forEach((r, j) => {
          const t = minute.times[j];
          const inOrder = j === 0 || t >= minute.times[j - 1];
          if (Date.parse(r.eventTime) !== t || t < minute.minuteMs || t >= minute.minuteMs + MINUTE_MS || !inOrder) {
            misplaced.push(r.eventTime);
          }
        });
      }
      expect(misplaced).toEqual([]);
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
      const problems = records.flatMap((r) => {
        const found: string[] = [];
        if (r.eventVersion !== '1.11' || r.awsRegion !== 'us-east-1') found.push('version/region');
        if (r.eventType !== 'AwsApiCall' || r.managementEvent !== true || r.eventCategory !== 'Management')
          found.push('type');
        if (r.recipientAccountId !== ACCOUNT) found.push('recipientAccountId');
        if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(r.eventTime)) found.push('eventTime');
        if (!uuid.test(r.eventID) || !uuid.test(r.requestID ?? '')) found.push('ids');
        if (r.readOnly !== inferReadOnly(r.eventName)) found.push('readOnly');
        if (!r.userIdentity?.type || !r.userAgent || !r.sourceIPAddress) found.push('identity');
        if ((r.errorMessage === undefined) !== (r.errorCode === undefined)) found.push('error fields');
        // What the console's example calls show: parameters on every call but listings (null, as AWS logs many).
        const parameters = r.requestParameters;
        if (
          r.eventName.startsWith('List') ? parameters !== null : typeof parameters !== 'object' || parameters === null
        )
          found.push('requestParameters');
        return found.map((problem) => `${problem}: ${r.eventName} ${r.eventID}`);
      });
      expect(problems).toEqual([]);
      expect(new Set(records.map((r) => r.eventID)).size).toBe(records.length);
    });

    it('come from many identities and user agents, root rarely, Identity Center users without arn', () => {
      const byType = countBy(records, (r) => r.userIdentity?.type ?? 'none');
      expect(new Set(records.map((r) => r.userIdentity?.arn).filter(Boolean)).size).toBeGreaterThanOrEqual(15);
      expect([...byType.keys()]).toEqual(
        expect.arrayContaining(['IAMUser', 'AssumedRole', 'AWSService', 'IdentityCenterUser']),
      );
      expect((byType.get('Root') ?? 0) / records.length).toBeLessThan(0.01);
      for (const r of records.filter((r) => r.userIdentity?.type === 'IdentityCenterUser')) {
        expect(r.userIdentity?.arn).toBeUndefined();
        expect(r.userIdentity?.onBehalfOf?.userId).toBeTruthy();
      }
      for (const r of records.filter((r) => r.userIdentity?.type === 'AssumedRole')) {
        expect(r.userIdentity?.arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/[^/]+\/.+$/);
      }
      const agents = [...new Set(records.map((r) => r.userAgent))].join('\n');
      for (const family of [
        'aws-cli/2.',
        'aws-sdk-js/3.',
        'Boto3/1.',
        'console.amazonaws.com',
        'Terraform/',
        'AWS Internal',
      ]) {
        expect(agents).toContain(family);
      }
    });

    it('record global services (IAM, Route 53, Organizations) in us-east-1 only', () => {
      const global = /^(iam|route53|organizations)\.amazonaws\.com$/;
      expect(records.some((r) => global.test(r.eventSource))).toBe(true);
      const elsewhere = minutes(generator, { accountId: ACCOUNT, region: 'eu-west-1' }, PEAK, 30);
      expect(elsewhere.length).toBeGreaterThan(3000);
      expect(elsewhere.filter((r) => global.test(r.eventSource))).toHaveLength(0);
    });
  });

  describe('catalog', () => {
    it('holds hundreds of real APIs over many services, readOnly agreeing with the name', () => {
      const apis = catalogApis();
      expect(apis.length).toBeGreaterThanOrEqual(300);
      const sources = new Set(apis.map((api) => api.eventSource));
      expect(sources.size).toBeGreaterThanOrEqual(20);
      for (const service of [
        'ec2',
        's3',
        'iam',
        'sts',
        'kms',
        'lambda',
        'secretsmanager',
        'ssm',
        'dynamodb',
        'cloudtrail',
      ]) {
        expect(sources).toContain(`${service}.amazonaws.com`);
      }
      const disagreeing = apis.filter((api) => api.readOnly !== inferReadOnly(api.eventName));
      expect(disagreeing.map((api) => api.eventName)).toEqual([]);
      expect(new Set(apis.map((api) => `${api.eventSource} ${api.eventName}`)).size).toBe(apis.length);
    });

    it('uses about 300 of them by default, or apiCount', () => {
      expect(new TrafficGenerator(options).apis()).toHaveLength(300);
      expect(new TrafficGenerator({ ...options, apiCount: 25 }).apis()).toHaveLength(25);
    });
  });

  describe('shape of the traffic', () => {
    const generator = new TrafficGenerator({ ...options, eventsPerMinute: 600 });
    const busy = minutes(generator, SOURCE, PEAK - HOUR_MS, 2 * 60);

    it('is Zipf-skewed: a few APIs carry most calls, and most traffic is reads', () => {
      const counts = [...countBy(busy, apiOf).values()].sort((a, b) => b - a);
      const total = busy.length;
      const top10 = counts.slice(0, Math.ceil(counts.length / 10)).reduce((sum, c) => sum + c, 0);
      expect(top10 / total).toBeGreaterThan(0.5);
      expect(counts[0]).toBeGreaterThan(20 * counts[Math.floor(counts.length / 2)]);
      expect(counts.length).toBeGreaterThan(150); // and a long tail
      const reads = busy.filter((r) => r.readOnly).length;
      expect(reads / total).toBeGreaterThan(0.65);
      expect(reads / total).toBeLessThan(0.95);
    });

    it('fails a few percent of calls, with each service’s own error codes', () => {
      const errors = busy.filter((r) => r.errorCode);
      expect(errors.length / busy.length).toBeGreaterThan(0.02);
      expect(errors.length / busy.length).toBeLessThan(0.045);
      const codes = countBy(errors, (r) => r.errorCode!);
      expect(codes.size).toBeGreaterThan(15);
      const s3 = new Set(errors.filter((r) => r.eventSource === 's3.amazonaws.com').map((r) => r.errorCode));
      const ec2 = new Set(errors.filter((r) => r.eventSource === 'ec2.amazonaws.com').map((r) => r.errorCode));
      for (const code of s3) expect(code).toMatch(/^(AccessDenied|NoSuch\w+|\w+NotFoundError|Bucket\w+)$/);
      for (const code of ec2) expect(code).toMatch(/^(Client|Server)\./);
    });

    it('follows a daily rhythm (business-hours peak, UTC) and a weekly one', () => {
      const count = (from: number) => minutes(generator, SOURCE, from, 60).length;
      const night = count(Date.UTC(2026, 2, 4, 3, 0));
      const afternoon = count(Date.UTC(2026, 2, 4, 15, 0));
      const saturday = count(Date.UTC(2026, 2, 7, 15, 0));
      expect(afternoon).toBeGreaterThan(4 * night);
      expect(saturday).toBeLessThan(0.5 * afternoon);
      expect(saturday).toBeGreaterThan(0.2 * afternoon);
      // Poisson-ish around the expectation at the peak.
      expect(afternoon / 60).toBeGreaterThan(600 * 0.95);
      expect(afternoon / 60).toBeLessThan(600 * 1.05);
      expect(trafficRhythm(PEAK)).toBeCloseTo(1);
    });

    it('holds the peak volume at every hour with the steady rhythm', () => {
      const steady = new TrafficGenerator({ ...options, eventsPerMinute: 600, rhythm: 'steady' });
      const count = (from: number) => minutes(steady, SOURCE, from, 30).length / 30;
      const api = steady.apis().find((a) => steady.expectedCalls(SOURCE, a.eventSource, a.eventName, PEAK) > 1)!;
      for (const at of [Date.UTC(2026, 2, 4, 3, 0), Date.UTC(2026, 2, 7, 15, 0), Date.UTC(2026, 2, 8, 23, 0)]) {
        expect(count(at)).toBeGreaterThan(600 * 0.95);
        expect(count(at)).toBeLessThan(600 * 1.05);
        expect(steady.expectedCalls(SOURCE, api.eventSource, api.eventName, at)).toBeCloseTo(
          steady.expectedCalls(SOURCE, api.eventSource, api.eventName, PEAK),
        );
      }
      // The peak minute itself is the same traffic under either rhythm.
      expect(same(steady.eventsForMinute(SOURCE, PEAK), generator.eventsForMinute(SOURCE, PEAK))).toBe(true);
      expect(() => new TrafficGenerator({ ...options, rhythm: 'hourly' as 'daily' })).toThrow(/rhythm/);
    });
  });

  describe('anomalies', () => {
    const start = PEAK + 10 * MINUTE_MS;
    const byApi = (records: readonly CloudTrailRecord[], source: string, name: string) =>
      records.filter((r) => r.eventSource === source && r.eventName === name);
    /** The generator's most popular API for SOURCE, and one it calls less than once an hour. */
    function pickApis(generator: TrafficGenerator) {
      const ranked = generator
        .apis()
        .map((api) => ({ ...api, expected: generator.expectedCalls(SOURCE, api.eventSource, api.eventName, PEAK) }))
        .sort((a, b) => b.expected - a.expected);
      const rare = ranked.filter((api) => api.expected > 0).at(-1)!;
      expect(rare.expected).toBeLessThan(0.2);
      const pick = ({ eventSource, eventName }: { eventSource: string; eventName: string }) => ({
        eventSource,
        eventName,
      });
      return { popular: pick(ranked[0]), rare: pick(rare) };
    }

    it('spike: multiplies the API’s calls by factor in its minutes only, leaving everything else as it was', () => {
      const plain = new TrafficGenerator(options);
      const { popular } = pickApis(plain);
      const spiked = new TrafficGenerator(options);
      const anomaly = spiked.injectAnomaly({
        kind: 'spike',
        eventSource: popular.eventSource,
        eventName: popular.eventName,
        factor: 5,
        minutes: 3,
        accountId: ACCOUNT,
        region: 'us-east-1',
        startMinute: start - 20_000, // rounded up to a whole minute
      });
      expect(anomaly).toMatchObject({
        kind: 'spike',
        factor: 5,
        minutes: 3,
        startTime: new Date(start).toISOString(),
        endTime: new Date(start + 3 * MINUTE_MS).toISOString(),
      });
      for (let i = -2; i < 5; i++) {
        const minute = start + i * MINUTE_MS;
        const before = plain.eventsForMinute(SOURCE, minute);
        const after = spiked.eventsForMinute(SOURCE, minute);
        const others = (records: readonly CloudTrailRecord[]) =>
          JSON.stringify(records.filter((r) => apiOf(r) !== `${popular.eventSource} ${popular.eventName}`));
        expect(others(after) === others(before)).toBe(true);
        const calls = byApi(after, popular.eventSource, popular.eventName).length;
        const baseline = byApi(before, popular.eventSource, popular.eventName).length;
        if (i >= 0 && i < 3) {
          const expected = 5 * plain.expectedCalls(SOURCE, popular.eventSource, popular.eventName, minute);
          expect(calls).toBeGreaterThan(expected * 0.8);
          expect(calls).toBeLessThan(expected * 1.2);
        } else {
          expect(calls).toBe(baseline);
          expect(same(after, before)).toBe(true);
        }
      }
      // Other account-regions are untouched.
      const elsewhere = { accountId: OTHER_ACCOUNT, region: 'us-east-1' };
      expect(same(spiked.eventsForMinute(elsewhere, start), plain.eventsForMinute(elsewhere, start))).toBe(true);
    });

    it('spike: a rarely called API still bursts to about factor calls a minute, from one caller', () => {
      const generator = new TrafficGenerator({ ...options, accounts: [ACCOUNT], regions: ['us-east-1'] });
      const { rare } = pickApis(generator);
      generator.injectAnomaly({
        kind: 'spike',
        eventSource: rare.eventSource,
        eventName: rare.eventName,
        minutes: 5,
        startMinute: start,
      });
      const calls = byApi(minutes(generator, SOURCE, start, 5), rare.eventSource, rare.eventName);
      expect(calls.length).toBeGreaterThan(5 * 10 * 0.6);
      expect(calls.length).toBeLessThan(5 * 10 * 1.5);
      expect(new Set(calls.map((r) => r.userIdentity?.arn)).size).toBeLessThanOrEqual(2);
    });

    it('drop: the API has no calls in its minutes, the rest is unchanged', () => {
      const plain = new TrafficGenerator(options);
      const { popular } = pickApis(plain);
      const dropped = new TrafficGenerator(options);
      dropped.injectAnomaly({
        ...popular,
        kind: 'drop',
        minutes: 2,
        startMinute: start,
        accountId: ACCOUNT,
        region: 'us-east-1',
      });
      expect(byApi(minutes(dropped, SOURCE, start, 2), popular.eventSource, popular.eventName)).toHaveLength(0);
      const remaining = minutes(plain, SOURCE, start, 2).filter(
        (r) => r.eventName !== popular.eventName || r.eventSource !== popular.eventSource,
      );
      expect(same(minutes(dropped, SOURCE, start, 2), remaining)).toBe(true);
      expect(
        byApi(dropped.eventsForMinute(SOURCE, start + 2 * MINUTE_MS), popular.eventSource, popular.eventName).length,
      ).toBeGreaterThan(0);
    });

    it('errors: adds about factor × max(expected, 1) failing calls with the error code', () => {
      const plain = new TrafficGenerator(options);
      const { popular, rare } = pickApis(plain);
      const failing = new TrafficGenerator(options);
      failing.injectAnomaly({
        kind: 'errors',
        eventSource: rare.eventSource,
        eventName: rare.eventName,
        minutes: 4,
        startMinute: start,
      });
      failing.injectAnomaly({
        kind: 'errors',
        eventSource: popular.eventSource,
        eventName: popular.eventName,
        errorCode: 'ThrottlingException',
        factor: 2,
        minutes: 1,
        startMinute: start,
      });
      const rareErrors = byApi(minutes(failing, SOURCE, start, 4), rare.eventSource, rare.eventName).filter(
        (r) => r.errorCode === 'AccessDenied',
      );
      expect(rareErrors.length).toBeGreaterThan(4 * 10 * 0.6);
      expect(rareErrors.length).toBeLessThan(4 * 10 * 1.5);
      const throttled = byApi(failing.eventsForMinute(SOURCE, start), popular.eventSource, popular.eventName).filter(
        (r) => r.errorCode === 'ThrottlingException',
      );
      const expected = 2 * plain.expectedCalls(SOURCE, popular.eventSource, popular.eventName, start);
      expect(throttled.length).toBeGreaterThan(expected * 0.8);
      // The calls that were there are still there.
      const ids = new Set(failing.eventsForMinute(SOURCE, start).map((r) => r.eventID));
      expect(plain.eventsForMinute(SOURCE, start).filter((r) => !ids.has(r.eventID))).toHaveLength(0);
    });

    it('leaves a minute as it was when an anomaly elsewhere is injected after it was generated', () => {
      const generator = new TrafficGenerator(options);
      const { popular } = pickApis(generator);
      const before = generator.eventsForMinute(SOURCE, start);
      generator.injectAnomaly({ ...popular, kind: 'spike', minutes: 5, startMinute: start + MINUTE_MS });
      generator.injectAnomaly({ ...popular, kind: 'drop', minutes: 5, startMinute: start, region: 'eu-west-1' });
      generator.eventsForMinute(SOURCE, start + MINUTE_MS);
      expect(same(new TrafficGenerator(options).eventsForMinute(SOURCE, start), before)).toBe(true);
      expect(same(generator.eventsForMinute(SOURCE, start), before)).toBe(true);
      expect(generator.anomalies()).toHaveLength(2);
    });

    it('accepts scheduled anomalies in the constructor', () => {
      const generator = new TrafficGenerator({
        ...options,
        anomalies: [
          {
            kind: 'spike',
            eventSource: 'iam.amazonaws.com',
            eventName: 'CreateUser',
            factor: 30,
            minutes: 1,
            startMinute: new Date(start),
          },
        ],
      });
      expect(byApi(generator.eventsForMinute(SOURCE, start), 'iam.amazonaws.com', 'CreateUser').length).toBeGreaterThan(
        15,
      );
    });

    it('refuses bad anomalies with a message naming the field', () => {
      const generator = new TrafficGenerator(options);
      const spec = {
        kind: 'spike' as const,
        eventSource: 'iam.amazonaws.com',
        eventName: 'CreateUser',
        minutes: 5,
        startMinute: start,
      };
      const fieldOf = (bad: object) => {
        try {
          generator.injectAnomaly({ ...spec, ...bad });
        } catch (error) {
          return error instanceof AnomalyValidationError ? error.field : 'not a validation error';
        }
        return 'accepted';
      };
      expect(fieldOf({ kind: 'burst' })).toBe('kind');
      expect(fieldOf({ minutes: 0 })).toBe('minutes');
      expect(fieldOf({ factor: -1 })).toBe('factor');
      expect(fieldOf({ kind: 'drop', factor: 3 })).toBe('factor');
      expect(fieldOf({ errorCode: 'AccessDenied' })).toBe('errorCode');
      expect(fieldOf({ accountId: '999999999999' })).toBe('accountId');
      expect(fieldOf({ region: 'ap-south-1' })).toBe('region');
      expect(fieldOf({ eventSource: 'iam' })).toBe('eventSource');
      expect(fieldOf({ startMinute: Number.NaN })).toBe('startMinute');
      expect(fieldOf({})).toBe('accepted');
    });
  });

  describe('replay', () => {
    const base = Date.UTC(2024, 7, 1, 13, 33, 28);
    const record = (i: number, offsetMs: number, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord => ({
      eventVersion: '1.09',
      eventTime: new Date(base + offsetMs).toISOString().replace('.000', ''),
      eventSource: 'iam.amazonaws.com',
      eventName: 'AttachUserPolicy',
      awsRegion: 'us-east-1',
      eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      recipientAccountId: ACCOUNT,
      ...extra,
    });
    const records = [
      record(1, 0),
      record(2, 45_000),
      record(3, 125_000),
      record(4, 3_000, { awsRegion: 'ap-south-1' }),
    ];

    it('moves the newest record to the target, keeps the spacing, and serves them with generated traffic', () => {
      const generator = new TrafficGenerator(options);
      const target = Date.UTC(2026, 2, 4, 15, 30, 10, 500);
      const result = generator.replay(records, { shiftTo: new Date(target) });
      expect(result).toMatchObject({ added: 3, skipped: 1, duplicates: 0 });
      const landed = (id: number) =>
        minutes(generator, SOURCE, target - 5 * MINUTE_MS, 6).find((r) => r.eventID === records[id - 1].eventID);
      expect(landed(3)?.eventTime).toBe('2026-03-04T15:30:10Z');
      expect(Date.parse(landed(3)!.eventTime) - Date.parse(landed(1)!.eventTime)).toBe(125_000);
      expect(Date.parse(landed(2)!.eventTime) - Date.parse(landed(1)!.eventTime)).toBe(45_000);
      expect(landed(1)?.eventVersion).toBe('1.09');
      // Generated traffic is still there.
      expect(generator.eventsForMinute(SOURCE, target).length).toBeGreaterThan(100);
      // Replaying the same records again adds nothing: Event history holds one copy of an event.
      expect(generator.replay(records, { shiftTo: target })).toMatchObject({ added: 0, duplicates: 3 });
    });

    it('can replace generated traffic, and remap records to a served account-region', () => {
      const generator = new TrafficGenerator({ ...options, now: () => PEAK });
      const result = generator.replay(records, {
        replaceGenerated: true,
        accountId: OTHER_ACCOUNT,
        region: 'eu-west-1',
      });
      expect(result.added).toBe(4);
      const served = minutes(generator, { accountId: OTHER_ACCOUNT, region: 'eu-west-1' }, PEAK - 5 * MINUTE_MS, 6);
      expect(served.map((r) => r.eventID).sort()).toEqual(records.map((r) => r.eventID).sort());
      expect(served.every((r) => r.recipientAccountId === OTHER_ACCOUNT && r.awsRegion === 'eu-west-1')).toBe(true);
      expect(served.at(-1)?.eventTime).toBe('2026-03-04T15:00:00Z');
      expect(generator.eventsForMinute(SOURCE, PEAK)).toHaveLength(0);
    });

    const stratus = '/work/shared/datasets/stratus-detonation-logs';
    const itWithData = existsSync(stratus) ? it : it.skip;
    if (!existsSync(stratus)) console.warn(`Skipping the dataset replay test: ${stratus} is absent`);
    itWithData('replays real trail records (Stratus Red Team detonation)', async () => {
      const { records: real } = await readRecordsFile(join(stratus, 'aws.persistence.iam-create-admin-user.json'));
      expect(real.length).toBeGreaterThan(0);
      const generator = new TrafficGenerator({ ...options, generate: false });
      const result = generator.replay(real, { shiftTo: PEAK, accountId: ACCOUNT, region: 'us-east-1' });
      expect(result.added + result.duplicates).toBe(real.length);
      const served = minutes(generator, SOURCE, PEAK - HOUR_MS, 61);
      expect(served).toHaveLength(result.added);
      expect(new Set(served.map((r) => r.eventName))).toEqual(new Set(real.map((r) => r.eventName)));
      expect(Math.max(...served.map((r) => Date.parse(r.eventTime)))).toBe(PEAK);
    });
  });
});

describe('TrafficGenerator data events (opt-in)', () => {
  const dataMinutes = (generator: TrafficGenerator, from: number, count: number) => {
    const out: CloudTrailRecord[] = [];
    for (let i = 0; i < count; i++) out.push(...generator.dataEventsForMinute(SOURCE, from + i * MINUTE_MS));
    return out;
  };

  it('emits none by default, and leaves the management traffic as it was when on', () => {
    expect(dataMinutes(new TrafficGenerator(options), PEAK, 30)).toEqual([]);
    const withData = new TrafficGenerator({ ...options, dataEventsPerMinute: 100 });
    expect(same(minutes(withData, SOURCE, PEAK, 30), minutes(new TrafficGenerator(options), SOURCE, PEAK, 30))).toBe(
      true,
    );
  });

  it('emits S3 and Lambda data events, reads and writes, as a trail with data-event selectors logs them', () => {
    const generator = new TrafficGenerator({ ...options, dataEventsPerMinute: 100 });
    const records = dataMinutes(generator, PEAK, 30);
    expect(records.length).toBeGreaterThan(30 * 80);
    expect(records.length).toBeLessThan(30 * 120);
    for (const r of records) {
      expect(r).toMatchObject({ eventCategory: 'Data', managementEvent: false, recipientAccountId: ACCOUNT });
      expect(r.resources?.length).toBeGreaterThan(0);
    }
    expect([...countBy(records, apiOf).keys()].sort()).toEqual([
      'lambda.amazonaws.com Invoke',
      's3.amazonaws.com GetObject',
      's3.amazonaws.com PutObject',
    ]);
    expect(new Set(records.map((r) => r.readOnly))).toEqual(new Set([true, false]));
    expect(records.some((r) => r.errorCode !== undefined)).toBe(true);
    expect(same(records, dataMinutes(new TrafficGenerator({ ...options, dataEventsPerMinute: 100 }), PEAK, 30))).toBe(
      true,
    );
  });

  it('puts an anomaly on a data API into the data events, never into Event history', () => {
    const generator = new TrafficGenerator({ ...options, dataEventsPerMinute: 20 });
    const before = minutes(generator, SOURCE, PEAK, 5);
    generator.injectAnomaly({
      kind: 'spike',
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      factor: 40,
      minutes: 5,
      startMinute: PEAK,
    });
    expect(same(minutes(generator, SOURCE, PEAK, 5), before)).toBe(true);
    const gets = dataMinutes(generator, PEAK, 5).filter((r) => r.eventName === 'GetObject');
    expect(gets.length).toBeGreaterThan(5 * 200);
  });
});
