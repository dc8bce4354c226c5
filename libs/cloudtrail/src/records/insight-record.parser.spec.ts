import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { InsightRecord } from '@trailsight/domain';
import { buildStartRecord } from '@trailsight/findings';
import { seedInput } from '../../../../test/support/findings-seed.js';
import { isInsightFilePath, parseInsightRecord, parseInsightRecordsBuffer } from './insight-record.parser.js';
import { listInsightFiles, listTrailFiles } from './record-reader.js';

const DATASET = fileURLToPath(
  new URL('../../../../../shared/datasets/aws-docs-insights-examples/insights_examples.json', import.meta.url),
);

describe('AWS Insights records as input', () => {
  const start = (): InsightRecord =>
    buildStartRecord(seedInput({ index: 1, startMinute: Date.UTC(2026, 0, 2, 3, 4) }), {
      sharedEventID: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    });

  (existsSync(DATASET) ? it : it.skip)('accepts every record of AWS\u2019s own documentation examples', () => {
    const read = parseInsightRecordsBuffer(readFileSync(DATASET), DATASET);
    expect(read.rejects).toEqual([]);
    expect(read.records).toHaveLength(5);
    expect(new Set(read.records.map((r) => r.insightDetails.state))).toEqual(new Set(['Start', 'End']));
  });

  it('accepts what Trailsight\u2019s own record builder writes, gzipped in {"Records":[...]}', () => {
    const record = start();
    const read = parseInsightRecordsBuffer(gzipSync(JSON.stringify({ Records: [record] })), 'f.json.gz');
    expect(read.rejects).toEqual([]);
    expect(read.records).toEqual([record]);
  });

  type Spoil = (r: InsightRecord) => unknown;
  const cases: [string, Spoil, string, RegExp][] = [
    [
      'a missing state',
      (r) => Reflect.deleteProperty(r.insightDetails, 'state'),
      'missing-field',
      /insightDetails\.state is missing/,
    ],
    [
      'another eventType',
      (r) => ((r as { eventType: string }).eventType = 'AwsApiCall'),
      'invalid-field',
      /eventType must be/,
    ],
    ['a bad eventTime', (r) => (r.eventTime = 'yesterday'), 'invalid-field', /eventTime must be/],
    [
      'an unknown insightType',
      (r) => ((r.insightDetails as { insightType: string }).insightType = 'Spike'),
      'invalid-field',
      /insightType/,
    ],
    [
      'an error-rate insight without errorCode',
      (r) => (r.insightDetails.insightType = 'ApiErrorRateInsight'),
      'missing-field',
      /errorCode is missing/,
    ],
    [
      'a negative average',
      (r) => (r.insightDetails.insightContext.statistics.insight.average = -1),
      'invalid-field',
      /insight\.average/,
    ],
    [
      'six attribution values',
      (r) =>
        (r.insightDetails.insightContext.attributions![0].insight = Array.from({ length: 6 }, () => ({
          value: 'x',
          average: 1,
        }))),
      'invalid-field',
      /attributions\[0\]\.insight/,
    ],
  ];
  it.each(cases)('rejects %s with the reason and the eventID', (_, spoil, reason, detail) => {
    const record = structuredClone(start());
    spoil(record);
    const result = parseInsightRecord(record);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reject.reason).toBe(reason);
    expect(result.reject.detail).toMatch(detail);
    expect(result.reject.eventId).toBe(record.eventID);
  });

  it('a bad record in a file is one reject; the others still count', () => {
    const bad = { ...start(), eventID: 'e-bad', insightDetails: undefined };
    const read = parseInsightRecordsBuffer(Buffer.from(JSON.stringify({ Records: [start(), bad] })), 'file.json');
    expect(read.records).toHaveLength(1);
    expect(read.rejects).toEqual([
      expect.objectContaining({
        reason: 'missing-field',
        eventId: 'e-bad',
        origin: 'file.json',
        detail: expect.stringMatching(/^Records\[1\]/),
      }),
    ]);
    expect(parseInsightRecordsBuffer(Buffer.from('{not json'), 'x').rejects[0]?.reason).toBe('malformed-json');
  });

  it('lists Insights files apart from trail files, and knows them by folder or name', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trailsight-insight-files-'));
    try {
      const events = join(root, 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/02');
      const insights = join(root, 'AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/01/02');
      mkdirSync(events, { recursive: true });
      mkdirSync(insights, { recursive: true });
      writeFileSync(
        join(events, '123456789012_CloudTrail_us-east-1_20260102T0105Z_a.json.gz'),
        gzipSync('{"Records":[]}'),
      );
      const insightFile = join(insights, '123456789012_CloudTrail-Insight_us-east-1_20260102T0130Z_b.json.gz');
      writeFileSync(insightFile, gzipSync('{"Records":[]}'));
      const all = async (it: AsyncIterable<string>) => {
        const out: string[] = [];
        for await (const p of it) out.push(p);
        return out;
      };
      expect(await all(listInsightFiles(root))).toEqual([insightFile]);
      expect((await all(listTrailFiles(root))).some((p) => p.includes('CloudTrail-Insight'))).toBe(false);
      expect(isInsightFilePath(insightFile)).toBe(true);
      expect(isInsightFilePath('123456789012_CloudTrail-Insight_us-east-1_20260102T0130Z_b.json.gz')).toBe(true);
      expect(isInsightFilePath(join(events, 'x.json.gz'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
