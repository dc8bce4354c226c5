import { EventSampler } from '../records/event-sampler.js';
import { Readable } from 'node:stream';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { listTrailFiles, parseRecordsBuffer, type ReadResult } from '../records/record-reader.js';
import { TrafficGenerator } from '@trailsight/simulator';
import type { SlimEvent } from '@trailsight/domain';
import type { Reject } from '../records/record-parser.js';
import { accountRegionOf, toSlimEvent } from '../records/slim-event.js';
import { streamRecords, streamSlimEvents, type StreamReadStats } from './records-stream.js';

function chunks(buf: Buffer, size: number): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

/** Reads record by record (wholeBytes 0) unless told otherwise. */
async function readAll(buf: Buffer, size = 65_536, stats?: StreamReadStats, wholeBytes = 0): Promise<ReadResult> {
  const out: ReadResult = { records: [], rejects: [] };
  for await (const part of streamRecords(chunks(buf, size), 'test', { chunkBytes: 16_384, wholeBytes }, stats)) {
    out.records.push(...part.records);
    out.rejects.push(...part.rejects);
  }
  return out;
}

async function readBuffer(buf: Buffer, wholeBytes: number): Promise<ReadResult> {
  const out: ReadResult = { records: [], rejects: [] };
  for await (const part of streamRecords(buf, 'test', { chunkBytes: 16_384, wholeBytes })) {
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

  it('parses a small Records file whole, with the result of reading it record by record', async () => {
    const good = JSON.stringify({ Records: [record('a'), record('b', { errorCode: 'Throttling' }), 42] });
    const broken = `{"Records":[${JSON.stringify(record('a'))},{"eventID":"b",oops},${JSON.stringify(record('c'))}]}`;
    const trailing = `${good} trailing words`;
    const cut = good.slice(0, good.length - 40);
    const ndjson = [record('a'), record('b')].map((r) => JSON.stringify(r)).join('\n');
    const corrupt = gzipSync(good);
    corrupt[corrupt.length - 12] ^= 0xff;
    for (const text of [good, broken, trailing, cut, ndjson]) {
      for (const input of [Buffer.from(text), gzipSync(text)]) {
        const expected = await readAll(input, 7);
        expect(await readAll(input, 7, undefined, 1 << 20)).toEqual(expected);
        // A buffer in memory (a small file read in one go), parsed whole or, too large, streamed.
        expect(await readBuffer(input, 1 << 20)).toEqual(expected);
        expect(await readBuffer(input, 16)).toEqual(expected);
      }
    }
    // A corrupt file keeps what decoded before the corruption (how much depends on where zlib
    // notices it) and ends with one malformed-gzip reject.
    const salvaged = await readBuffer(corrupt, 1 << 20);
    expect(salvaged.records.map((r) => r.eventID)).toEqual(['a', 'b']);
    expect(salvaged.rejects.at(-1)?.reason).toBe('malformed-gzip');
    // Two gzip members (the trailer's size is the last one's): decoded whole all the same.
    const half = Math.floor(good.length / 2);
    const members = Buffer.concat([gzipSync(good.slice(0, half)), gzipSync(good.slice(half))]);
    expect(await readBuffer(members, 1 << 20)).toEqual(await readAll(Buffer.from(good), 7));
    const stats: StreamReadStats = { bytes: 0, maxPendingBytes: 0, streamed: false };
    expect((await readAll(Buffer.from(good), 7, stats, 1 << 20)).records).toHaveLength(2);
    expect(stats.streamed).toBe(false); // one JSON.parse
  });

  it('streams a Records file larger than wholeBytes', async () => {
    const records = Array.from({ length: 3000 }, (_, i) => record(`id-${i}`));
    const json = Buffer.from(JSON.stringify({ Records: records }));
    const stats: StreamReadStats = { bytes: 0, maxPendingBytes: 0, streamed: false };
    const result = await readAll(gzipSync(json), 1 << 16, stats, 64 * 1024);
    expect(result.records.map((r) => r.eventID)).toEqual(records.map((r) => r.eventID));
    expect(stats.streamed).toBe(true);
    expect(json.length).toBeGreaterThan(4 * 64 * 1024);
  });

  it('stops at maxInputBytes in every form: records before it count, one too-large reject, the source is closed', async () => {
    const first = JSON.stringify(record('e1'));
    for (const [name, head, wholeBytes] of [
      ['streamed Records', `{"Records":[${first},`, 0],
      ['Records held to parse whole', `{"Records":[${first},`, undefined],
      ['another format, held whole', '[', undefined],
    ] as const) {
      let chunksRead = 0;
      let closed = false;
      // An endless source (as an S3 body or a file stream of a bomb): only a limit ends it.
      const source: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => ({
          next: () =>
            Promise.resolve({
              done: false,
              value: chunksRead++ === 0 ? Buffer.from(head) : Buffer.alloc(65_536, 0x20),
            }),
          return: () => {
            closed = true;
            return Promise.resolve({ done: true, value: undefined });
          },
        }),
      };
      const results: ReadResult = { records: [], rejects: [] };
      for await (const part of streamRecords(source, name, { maxInputBytes: 1024 * 1024, wholeBytes })) {
        results.records.push(...part.records);
        results.rejects.push(...part.rejects);
      }
      expect(results.rejects.map((r) => `${r.reason}: ${r.detail}`)).toEqual([
        `too-large: decompresses to more than the limit of ${1024 * 1024} bytes`,
      ]);
      expect(results.records.length).toBe(name === 'another format, held whole' ? 0 : 1);
      expect(chunksRead).toBeLessThan(20);
      expect(closed).toBe(true);
    }
  });

  it('gives the queue form and account-region of each record with streamSlimEvents', async () => {
    const records = [
      record('a'),
      record('b', { recipientAccountId: undefined, userAgent: null }),
      { eventID: 'c' },
      record('d', { readOnly: 'false', errorCode: '' }),
    ];
    const text = JSON.stringify({ Records: records });
    const expected = await readAll(Buffer.from(text));
    for (const wholeBytes of [0, 1 << 20]) {
      const bySource = new Map<string, SlimEvent[]>();
      const rejects: Reject[] = [];
      for await (const part of streamSlimEvents(chunks(gzipSync(text), 9), 'test', '999988887777', { wholeBytes })) {
        for (const { source, events } of part.groups) {
          const key = `${source.accountId}:${source.region}`;
          bySource.set(key, [...(bySource.get(key) ?? []), ...events]);
        }
        rejects.push(...part.rejects);
      }
      const expectedBySource = new Map<string, SlimEvent[]>();
      // The same events carry a sample as from the parsed records (the first few of each series and minute).
      const sampler = new EventSampler();
      for (const r of expected.records) {
        const { accountId, region } = accountRegionOf(r, '999988887777')!;
        const key = `${accountId}:${region}`;
        const event = toSlimEvent(r);
        sampler.offer(r, event);
        expectedBySource.set(key, [...(expectedBySource.get(key) ?? []), event]);
      }
      expect(bySource).toEqual(expectedBySource);
      expect(rejects).toEqual(expected.rejects);
    }
    expect(expected.records.map((r) => r.eventID)).toEqual(['a', 'b', 'd']);
    expect(expected.records.map((r) => accountRegionOf(r, '999988887777')?.accountId)).toEqual([
      '123456789012',
      '999988887777',
      '123456789012',
    ]);
  });

  it('makes a record without any account a reject, streamed or read whole, instead of counting it', async () => {
    const accountless = record('b', { recipientAccountId: undefined, userIdentity: { type: 'AWSService' } });
    for (const input of [JSON.stringify({ Records: [record('a'), accountless] }), `[${JSON.stringify(accountless)}]`]) {
      const events: SlimEvent[] = [];
      const rejects: Reject[] = [];
      for await (const part of streamSlimEvents(Buffer.from(input), 'test', undefined)) {
        for (const group of part.groups) events.push(...group.events);
        rejects.push(...part.rejects);
      }
      expect(events.map((e) => e.eventId)).not.toContain('b');
      expect(rejects).toEqual([expect.objectContaining({ reason: 'missing-field', eventId: 'b', origin: 'test' })]);
    }
  });

  const grycap = join(process.cwd(), '..', 'shared', 'datasets', 'grycap-cloudtrail-tracker');
  (existsSync(grycap) ? it : it.skip)(
    'reads every grycap file exactly as the whole-file reader',
    async () => {
      let files = 0;
      for await (const file of listTrailFiles(grycap)) {
        const buf = readFileSync(file);
        const whole = parseRecordsBuffer(buf, 'test');
        for (const wholeBytes of [0, 1 << 24]) {
          const streamed = await readAll(buf, 4096, undefined, wholeBytes);
          expect(streamed.records).toEqual(whole.records);
          expect(streamed.rejects.map((r) => r.reason)).toEqual(whole.rejects.map((r) => r.reason));
        }
        files++;
      }
      expect(files).toBe(1067);
    },
    120_000,
  );
  if (!existsSync(grycap)) console.warn(`${grycap} is absent: the grycap streaming test is skipped`);
});
