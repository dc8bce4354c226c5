import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { CloudTrailRecord } from '@trailsight/domain';
import {
  fromLookupEvent,
  listTrailFiles,
  parseRecordsBuffer,
  parseRecordsText,
  parseRecordsValue,
  parseTrailFileKey,
  readRecordsFile,
  type ReadResult,
} from './record-reader.js';
import { SAMPLE_LIMIT } from './reject-sample.js';
import { accountRegionOf } from './slim-event.js';

const DATASETS = fileURLToPath(new URL('../../../../../shared/datasets/', import.meta.url));
const describeDatasets = existsSync(DATASETS) ? describe : describe.skip;
if (!existsSync(DATASETS)) console.warn(`record-reader.spec: ${DATASETS} is absent; the dataset tests are skipped`);

function makeRecord(n: number, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/anaya', accountId: '111122223333' },
    eventTime: `2024-07-19T21:${String(n % 60).padStart(2, '0')}:00Z`,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    awsRegion: 'us-east-1',
    eventID: `event-${n}`,
    readOnly: false,
    recipientAccountId: '111122223333',
    ...extra,
  };
}
const records = [makeRecord(1), makeRecord(2), makeRecord(3)];
const ids = (result: ReadResult): string[] => result.records.map((r) => r.eventID);
const lookupEvent = (r: CloudTrailRecord): Record<string, unknown> => ({
  EventId: r.eventID,
  EventName: r.eventName,
  ReadOnly: 'false',
  EventTime: 1721424060,
  EventSource: r.eventSource,
  Resources: [],
  CloudTrailEvent: JSON.stringify(r),
});

describe('parseRecordsText: every input form', () => {
  it('reads a trail file {"Records":[...]}', () => {
    expect(parseRecordsText(JSON.stringify({ Records: records }), 'trail.json')).toEqual({ records, rejects: [] });
  });

  it('reads a plain JSON array of records (the stratus layout)', () => {
    expect(ids(parseRecordsText(JSON.stringify(records, null, 2), 'a.json'))).toEqual([
      'event-1',
      'event-2',
      'event-3',
    ]);
  });

  it('reads a single record document', () => {
    expect(ids(parseRecordsText(JSON.stringify(records[0]), 'one.json'))).toEqual(['event-1']);
  });

  it('reads NDJSON, where one bad line is one reject and the other lines survive', () => {
    const text = [
      JSON.stringify(records[0]),
      '{"eventID": "broken", ',
      '',
      JSON.stringify(records[1]) + '\r',
      '42',
    ].join('\n');
    const result = parseRecordsText(text, 'events.ndjson');
    expect(ids(result)).toEqual(['event-1', 'event-2']);
    expect(result.rejects).toEqual([
      expect.objectContaining({
        reason: 'malformed-json',
        detail: expect.stringMatching(/^line 2: /),
        sample: '{"eventID": "broken", ',
        origin: 'events.ndjson',
      }),
      expect.objectContaining({ reason: 'not-an-object', detail: 'line 5: expected a record object, got a number' }),
    ]);
  });

  it('reads NDJSON whose first line is bad', () => {
    const result = parseRecordsText(`not json\n${JSON.stringify(records[2])}`, 'x.jsonl');
    // The whole text does not start like JSON, so it is refused as a whole: say so clearly.
    expect(result.records).toEqual([]);
    expect(result.rejects[0]).toMatchObject({ reason: 'unknown-format' });
    const second = parseRecordsText(`{oops\n${JSON.stringify(records[2])}`, 'x.jsonl');
    expect(ids(second)).toEqual(['event-3']);
    expect(second.rejects).toEqual([
      expect.objectContaining({ reason: 'malformed-json', detail: expect.stringMatching(/^line 1: /) }),
    ]);
  });

  it('reads LookupEvents output ({"Events":[...]} as the CLI prints it) and saved pages of it', () => {
    const page = { Events: records.map(lookupEvent), NextToken: 'abc' };
    expect(parseRecordsText(JSON.stringify(page), 'lookup.json')).toEqual({ records, rejects: [] });
    const pages = [
      { Events: [lookupEvent(records[0])], NextToken: 't' },
      { Events: records.slice(1).map(lookupEvent) },
    ];
    expect(ids(parseRecordsText(JSON.stringify(pages), 'pages.json'))).toEqual(['event-1', 'event-2', 'event-3']);
    expect(ids(parseRecordsText(JSON.stringify(records.map(lookupEvent)), 'events.json'))).toEqual([
      'event-1',
      'event-2',
      'event-3',
    ]);
  });

  it('reads an SDK LookupEvents output object as it is (Dates, $metadata)', () => {
    const output = {
      $metadata: { httpStatusCode: 200 },
      Events: records.map((r) => ({ ...lookupEvent(r), EventTime: new Date('2024-07-19T21:01:00Z') })),
    };
    expect(parseRecordsValue(output, 'lookup-events')).toEqual({ records, rejects: [] });
  });

  it('rejects a malformed CloudTrailEvent with its EventId; the other events survive', () => {
    const bad = { EventId: 'e-broken', CloudTrailEvent: '{"eventVersion":"1.08",' };
    const result = parseRecordsText(JSON.stringify({ Events: [lookupEvent(records[0]), bad] }), 'lookup.json');
    expect(ids(result)).toEqual(['event-1']);
    expect(result.rejects).toEqual([
      expect.objectContaining({
        reason: 'malformed-json',
        eventId: 'e-broken',
        detail: expect.stringMatching(/^Events\[1\]: CloudTrailEvent: /),
        sample: bad.CloudTrailEvent,
        origin: 'lookup.json',
      }),
    ]);
  });

  it.each([
    ['timestamp,value\n2015-01-01 00:00:00,1', 'not JSON or NDJSON: the input starts with "timestamp,value'],
    ['', 'the input is empty'],
    ['  \n ', 'the input is empty'],
    ['{"awsAccountId":"1","logFiles":[]}', 'got an object with keys awsAccountId, logFiles'],
    ['{"Records": {"eventID": "x"}}', 'Records must be an array, got an object with keys eventID'],
    ['{"Events": null}', 'Events must be an array, got null'],
  ])('rejects %j as unknown-format, naming what was seen', (text, detail) => {
    const result = parseRecordsText(text, 'f');
    expect(result.records).toEqual([]);
    expect(result.rejects).toEqual([
      { reason: 'unknown-format', detail: expect.stringContaining(detail), origin: 'f' },
    ]);
  });

  it('rejects a truncated document once, as malformed-json', () => {
    const text = JSON.stringify({ Records: records }, null, 2);
    const result = parseRecordsText(text.slice(0, text.length / 2), 'cut.json');
    expect(result.records).toEqual([]);
    expect(result.rejects).toEqual([expect.objectContaining({ reason: 'malformed-json', origin: 'cut.json' })]);
    expect(result.rejects[0].sample!.length).toBeLessThanOrEqual(SAMPLE_LIMIT);
  });

  it('locates each bad record of a trail file and keeps the good ones', () => {
    const { eventTime: _, ...noTime } = makeRecord(9);
    const result = parseRecordsText(JSON.stringify({ Records: [records[0], noTime, 'x', records[1]] }), 't.json');
    expect(ids(result)).toEqual(['event-1', 'event-2']);
    expect(result.rejects.map((r) => [r.reason, r.detail, r.eventId])).toEqual([
      ['missing-field', 'Records[1]: eventTime is missing', 'event-9'],
      ['not-an-object', 'Records[2]: expected a record object, got a string ("x")', undefined],
    ]);
  });

  it('does not overflow the stack on 100,000 nested arrays or objects', () => {
    const arrays = parseRecordsText('['.repeat(100_000) + ']'.repeat(100_000), 'deep.json');
    expect(arrays.rejects).toEqual([
      expect.objectContaining({
        reason: 'not-an-object',
        detail: '[0]: expected a record object, got an array of 1 item',
      }),
    ]);
    const objects = parseRecordsText('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), 'deep.json');
    expect(objects.rejects).toEqual([expect.objectContaining({ reason: 'unknown-format' })]);
  });

  it('strips a byte-order mark', () => {
    expect(ids(parseRecordsText(`\uFEFF${JSON.stringify({ Records: records })}`, 'bom.json'))).toHaveLength(3);
  });

  it('refuses text over the size limit', () => {
    const text = JSON.stringify({ Records: records });
    expect(parseRecordsText(text, 'f', { maxInputBytes: 100 }).rejects).toEqual([
      expect.objectContaining({ reason: 'too-large' }),
    ]);
  });
});

describe('fromLookupEvent', () => {
  it('parses the CloudTrailEvent string', () => {
    expect(fromLookupEvent(lookupEvent(records[0]))).toEqual({ ok: true, record: records[0] });
  });

  it('rejects an Event without CloudTrailEvent, or with one that is not a string, keeping the EventId', () => {
    expect(fromLookupEvent({ EventId: 'e1' })).toEqual({
      ok: false,
      reject: { reason: 'missing-field', detail: 'CloudTrailEvent is missing', eventId: 'e1' },
    });
    const parsed = fromLookupEvent({ EventId: 'e2', CloudTrailEvent: records[0] } as never);
    expect(!parsed.ok && parsed.reject).toMatchObject({ reason: 'invalid-field', eventId: 'e2' });
  });

  it('gives record rejects the EventId when the record has no eventID', () => {
    const { eventID: _, ...noId } = records[0];
    const result = fromLookupEvent({ EventId: 'e3', CloudTrailEvent: JSON.stringify(noId) });
    expect(!result.ok && result.reject).toMatchObject({
      reason: 'missing-field',
      detail: 'eventID is missing',
      eventId: 'e3',
    });
  });
});

describe('parseRecordsBuffer', () => {
  const trail = Buffer.from(JSON.stringify({ Records: records }));

  it('reads gzip by its magic bytes, whatever the name', () => {
    expect(parseRecordsBuffer(gzipSync(trail), 'no-extension')).toEqual({ records, rejects: [] });
    expect(parseRecordsBuffer(trail, 'x.json.gz')).toEqual({ records, rejects: [] });
  });

  it('rejects a truncated gzip as malformed-gzip', () => {
    const gz = gzipSync(trail);
    expect(parseRecordsBuffer(gz.subarray(0, gz.length - 12), 'cut.json.gz').rejects).toEqual([
      { reason: 'malformed-gzip', detail: expect.stringContaining('unexpected end of file'), origin: 'cut.json.gz' },
    ]);
  });

  it('refuses a gzip bomb: 50 MB of zeros with a 10 MB limit', () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    expect(parseRecordsBuffer(bomb, 'bomb.json.gz', { maxInputBytes: 10 * 1024 * 1024 })).toEqual({
      records: [],
      rejects: [
        {
          reason: 'too-large',
          detail: 'decompresses to more than the limit of 10485760 bytes',
          origin: 'bomb.json.gz',
        },
      ],
    });
  });

  it('decodes invalid UTF-8 inside a string as U+FFFD and keeps the record', () => {
    const text = JSON.stringify({ Records: [makeRecord(1, { userAgent: 'agent-@' })] });
    const bytes = Buffer.from(text);
    bytes[bytes.indexOf('@')] = 0xff; // not valid UTF-8 anywhere
    const result = parseRecordsBuffer(bytes, 'latin1.json');
    expect(result.rejects).toEqual([]);
    expect(result.records[0].userAgent).toBe('agent-\uFFFD');
  });

  it('rejects invalid UTF-8 outside strings as malformed JSON', () => {
    const bytes = Buffer.concat([Buffer.from('{"Records":['), Buffer.from([0xc3, 0x28]), Buffer.from(']}')]);
    expect(parseRecordsBuffer(bytes, 'bad.json').rejects).toEqual([
      expect.objectContaining({ reason: 'malformed-json' }),
    ]);
  });

  it('names other compressions instead of showing garbled text', () => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]);
    expect(parseRecordsBuffer(zstd, 'x.json.zst').rejects).toEqual([
      expect.objectContaining({ reason: 'unknown-format', detail: expect.stringContaining('zstd-compressed data') }),
    ]);
  });
});

describe('parseTrailFileKey', () => {
  const name = '111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz';

  it('reads account, region and date from an S3 key', () => {
    expect(parseTrailFileKey(`my-bucket/prefix/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/${name}`)).toEqual({
      accountId: '111122223333',
      region: 'us-east-2',
      date: '2015-08-01',
      deliveredAt: '2015-08-01T02:10:00Z',
    });
  });

  it('reads organization trail keys', () => {
    expect(parseTrailFileKey(`AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-2/2015/08/01/${name}`)).toEqual({
      accountId: '111122223333',
      region: 'us-east-2',
      date: '2015-08-01',
      orgId: 'o-exampleorgid',
      deliveredAt: '2015-08-01T02:10:00Z',
    });
  });

  it('reads file names leniently, and keys with odd file names', () => {
    expect(parseTrailFileKey('111122223333_CloudTrail_us-east-1_20140620T1255ZHdkvFTXOA3Vnhbc.json.gz')).toEqual({
      accountId: '111122223333',
      region: 'us-east-1',
      date: '2014-06-20',
      deliveredAt: '2014-06-20T12:55:00Z',
    });
    expect(parseTrailFileKey('s3://b/AWSLogs/111122223333/CloudTrail/eu-west-1/2024/02/29/renamed.json')).toEqual({
      accountId: '111122223333',
      region: 'eu-west-1',
      date: '2024-02-29',
    });
    expect(
      parseTrailFileKey('C:\\logs\\AWSLogs\\111122223333\\CloudTrail\\eu-west-1\\2024\\01\\02\\f.json')?.region,
    ).toBe('eu-west-1');
  });

  it.each([
    'AWSLogs/111122223333/CloudTrail/us-east-2/2015/02/30/f.json.gz', // no such day
    'AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/01/f.json.gz',
    'AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/', // a folder, not a file
    'AWSLogs/1111/CloudTrail/us-east-2/2015/08/01/f.json.gz',
    'logs/events.ndjson',
    '111122223333_CloudTrail_us-east-2_20151301T0210Z_x.json.gz',
  ])('is undefined for %s', (key) => {
    expect(parseTrailFileKey(key)).toBeUndefined();
  });
});

describeDatasets(`real CloudTrail logs (datasets in ${DATASETS})`, () => {
  async function readAll(dir: string): Promise<{ files: string[]; result: ReadResult }> {
    const files: string[] = [];
    const result: ReadResult = { records: [], rejects: [] };
    for await (const file of listTrailFiles(dir)) {
      files.push(file);
      const { records: found, rejects } = await readRecordsFile(file);
      result.records.push(...found);
      result.rejects.push(...rejects);
    }
    return { files, result };
  }

  describe('grycap: 1,067 gzipped trail files in the S3 layout', () => {
    const dir = `${DATASETS}grycap-cloudtrail-tracker`;
    let files: string[] = [];
    let result: ReadResult = { records: [], rejects: [] };
    const accounts = new Map<string, number>();
    beforeAll(async () => {
      ({ files, result } = await readAll(dir));
      for (const file of files) {
        const key = parseTrailFileKey(file);
        for (const record of (await readRecordsFile(file)).records) {
          const account = `${accountRegionOf(record, key?.accountId)?.accountId} ${accountRegionOf(record)?.accountId}`;
          accounts.set(account, (accounts.get(account) ?? 0) + 1);
        }
      }
    });

    it('reads every file: 17,598 records, 17,598 unique eventIDs, no reject', () => {
      expect(files).toHaveLength(1067);
      expect([...files].sort()).toEqual(files);
      expect(result.rejects).toEqual([]);
      expect(result.records).toHaveLength(17_598);
      expect(new Set(ids(result)).size).toBe(17_598);
      // readOnly is filled for the 16,844 records (eventVersion 1.01-1.04) that lack it.
      expect(result.records.every((r) => typeof r.readOnly === 'boolean')).toBe(true);
    });

    it('finds every record its account, with or without the file path', () => {
      // 2,629 records (eventVersion 1.01) have no recipientAccountId; their identity or path gives it.
      expect(Object.fromEntries(accounts)).toEqual({ '974349055189 974349055189': 17_598 });
      expect(files.every((file) => parseTrailFileKey(file)?.accountId === '974349055189')).toBe(true);
      expect(result.records.filter((r) => r.recipientAccountId === undefined)).toHaveLength(2629);
    });
  });

  it('reads all 35 stratus files (plain JSON arrays): 310 records', async () => {
    const { files, result } = await readAll(`${DATASETS}stratus-detonation-logs`);
    expect(files).toHaveLength(35);
    expect(result.rejects).toEqual([]);
    expect(result.records).toHaveLength(310);
  });

  it('reads the same stratus events wrapped as LookupEvents output and as NDJSON', async () => {
    const { result } = await readAll(`${DATASETS}stratus-detonation-logs`);
    const events = result.records.map(lookupEvent);
    expect(parseRecordsText(JSON.stringify({ Events: events }), 'lookup').records).toEqual(result.records);
    const ndjson = result.records.map((r) => JSON.stringify(r)).join('\n');
    expect(parseRecordsText(ndjson, 'ndjson').records).toEqual(result.records);
  });

  it('rejects every record of the AWS Insights examples as insight-record', async () => {
    const file = `${DATASETS}aws-docs-insights-examples/insights_examples.json`;
    const result = await readRecordsFile(file);
    expect(result.records).toEqual([]);
    expect(result.rejects).toHaveLength(5);
    expect(result.rejects.every((r) => r.reason === 'insight-record' && r.origin === file && r.eventId)).toBe(true);
  });

  it('lists a file given as the root as it is, and only log files under a folder', async () => {
    const file = `${DATASETS}grycap-cloudtrail-tracker/SOURCE.txt`;
    const listed: string[] = [];
    for await (const path of listTrailFiles(file)) listed.push(path);
    expect(listed).toEqual([file]);
    for await (const path of listTrailFiles(DATASETS)) {
      expect(path).toMatch(/\.(json|ndjson|jsonl)(\.gz)?$/);
    }
  });

  it('reads a real gzip file whole, and rejects its truncated bytes', () => {
    const file = `${DATASETS}grycap-cloudtrail-tracker/AWSLogs/974349055189/CloudTrail/us-east-1/2017/06/01/974349055189_CloudTrail_us-east-1_20170601T0005Z_12nCTooUATtsirhW.json.gz`;
    const bytes = readFileSync(file);
    expect(parseRecordsBuffer(bytes, file).records.length).toBeGreaterThan(0);
    expect(parseRecordsBuffer(bytes.subarray(0, bytes.length >> 1), file).rejects).toEqual([
      expect.objectContaining({ reason: 'malformed-gzip' }),
    ]);
  });
});
