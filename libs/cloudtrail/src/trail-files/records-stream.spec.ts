import { Readable } from 'node:stream';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseRecordsBuffer, type ReadResult } from '../records/record-reader.js';
import { listTrailFiles } from '../records/record-reader.js';
import { TrafficGenerator } from '../simulator/traffic-generator.js';
import { streamRecords, type StreamReadStats } from './records-stream.js';

function chunks(buf: Buffer, size: number): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function readAll(buf: Buffer, size = 65_536, stats?: StreamReadStats): Promise<ReadResult> {
  const out: ReadResult = { records: [], rejects: [] };
  for await (const part of streamRecords(chunks(buf, size), 'test', { chunkBytes: 16_384 }, stats)) {
    out.records.push(...part.records);
    out.rejects.push(...part.rejects);
  }
  return out;
}

const record = (id: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.08',
  eventTime: '2024-05-01T10:00:00Z',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  eventID: id,
  awsRegion: 'us-east-1',
  recipientAccountId: '123456789012',
  ...extra,
});

describe('streamRecords', () => {
  it('reads a trail file exactly as the whole-file reader, whatever the chunk boundaries', async () => {
    const tricky = {
      Records: [
        record('a', {
          userAgent: 'quote " and } brace { and \\ backslash \\" end',
          requestParameters: { x: [1, { y: '[' }] },
        }),
        record('b', { userAgent: 'snow ☃ and 𝄞 clef', errorCode: 'AccessDenied' }),
        record('c', { readOnly: true, eventName: 'DescribeInstances' }),
      ],
    };
    const text = ` \n{ "Records" : [\n${tricky.Records.map((r) => JSON.stringify(r, null, 1)).join(' ,\n')}\n] }\n`;
    const expected = parseRecordsBuffer(Buffer.from(text), 'test');
    for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
      expect(await readAll(Buffer.from(text), size)).toEqual(expected);
      expect(await readAll(gzipSync(text), size)).toEqual(expected);
    }
    expect(expected.records.map((r) => r.eventID)).toEqual(['a', 'b', 'c']);
  });

  it('rejects a broken record and still reads its neighbours', async () => {
    const text = `{"Records":[${JSON.stringify(record('a'))},{"eventID":"b",oops},42,${JSON.stringify(record('c'))}]}`;
    const result = await readAll(gzipSync(text), 5);
    expect(result.records.map((r) => r.eventID)).toEqual(['a', 'c']);
    expect(result.rejects.map((r) => [r.reason, r.detail.slice(0, 11)])).toEqual([
      ['malformed-json', 'Records[1]:'],
      ['not-an-object', 'Records[2]:'],
    ]);
  });

  it('keeps what it read before a truncated or corrupt file and says so', async () => {
    const full = gzipSync(JSON.stringify({ Records: Array.from({ length: 2000 }, (_, i) => record(`id-${i}`)) }));
    const cut = await readAll(full.subarray(0, Math.floor(full.length / 2)), 1000);
    expect(cut.records.length).toBeGreaterThan(0);
    expect(cut.records.length).toBeLessThan(2000);
    expect(cut.rejects).toHaveLength(1);
    expect(cut.rejects[0]?.reason).toBe('malformed-gzip');

    const text = `{"Records":[${JSON.stringify(record('a'))},${JSON.stringify(record('b')).slice(0, 30)}`;
    const unended = await readAll(Buffer.from(text));
    expect(unended.records.map((r) => r.eventID)).toEqual(['a']);
    expect(unended.rejects.map((r) => r.reason)).toEqual(['malformed-json']);
  });

  it('reads other formats whole, as the batch reader does', async () => {
    const ndjson = [record('a'), record('b')].map((r) => JSON.stringify(r)).join('\n');
    expect(await readAll(gzipSync(ndjson), 3)).toEqual(parseRecordsBuffer(Buffer.from(ndjson), 'test'));
    const array = JSON.stringify([record('a')]);
    expect(await readAll(Buffer.from(array), 2)).toEqual(parseRecordsBuffer(Buffer.from(array), 'test'));
    const empty = await readAll(Buffer.alloc(0));
    expect(empty.rejects.map((r) => r.reason)).toEqual(['unknown-format']);
    const zstd = await readAll(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]));
    expect(zstd.rejects.map((r) => r.reason)).toEqual(['unknown-format']);
  });

  it('holds at most one record between chunks, however large the file', async () => {
    const generator = new TrafficGenerator({
      seed: 3,
      accounts: ['123456789012'],
      regions: ['us-east-1'],
      eventsPerMinute: 3000,
    });
    const records = [];
    for (let m = 0; records.length < 40_000; m++)
      records.push(
        ...generator.eventsForMinute({ accountId: '123456789012', region: 'us-east-1' }, Date.UTC(2026, 0, 5, 15, m)),
      );
    const json = Buffer.from(JSON.stringify({ Records: records }));
    const stats: StreamReadStats = { bytes: 0, maxPendingBytes: 0, streamed: false };
    const result = await readAll(gzipSync(json), 1 << 20, stats);
    expect(result.records).toHaveLength(records.length);
    expect(result.rejects).toEqual([]);
    expect(stats.streamed).toBe(true);
    expect(stats.bytes).toBe(json.length);
    expect(stats.maxPendingBytes).toBeLessThan(16_384);
  });

  const grycap = join(process.cwd(), '..', 'shared', 'datasets', 'grycap-cloudtrail-tracker');
  (existsSync(grycap) ? it : it.skip)(
    'reads every grycap file exactly as the whole-file reader',
    async () => {
      let files = 0;
      for await (const file of listTrailFiles(grycap)) {
        const buf = readFileSync(file);
        const whole = parseRecordsBuffer(buf, 'test');
        const streamed = await readAll(buf, 4096);
        expect(streamed.records).toEqual(whole.records);
        expect(streamed.rejects.map((r) => r.reason)).toEqual(whole.rejects.map((r) => r.reason));
        files++;
      }
      expect(files).toBe(1067);
    },
    120_000,
  );
  if (!existsSync(grycap)) console.warn(`${grycap} is absent: the grycap streaming test is skipped`);
});
