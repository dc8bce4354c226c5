import { readFile, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { listInsightFiles, parseInsightRecordsBuffer, type Reject } from '@trailsight/cloudtrail';
import type { DetectorTuning } from '@trailsight/detection';
import type { InsightRecord, InsightsEventCategory } from '@trailsight/domain';
import { compareInsights, insightsOf, type InsightComparison } from '@trailsight/findings';
import { detect } from './detect.command.js';
import { UsageError } from './usage-error.js';
import type { Progress } from './progress.js';

export interface CompareOptions {
  tuning: Partial<DetectorTuning>;
  maxFileBytes: number;
  eventCategories: readonly InsightsEventCategory[];
  /** How far apart two starts may be and still match (the periods may also overlap). */
  toleranceMinutes: number;
}

/**
 * `compare <trail dir>`: the detector over the tree's management events (what `detect` does), and
 * AWS's own Insights files of the same tree (`CloudTrail-Insight/`), matched insight by insight.
 * A table on stderr, the comparison as JSON on `out`.
 */
export async function compare(
  dir: string,
  options: CompareOptions,
  out: NodeJS.WritableStream,
  progress: Progress,
): Promise<InsightComparison> {
  const info = await stat(dir).catch(() => {
    throw new UsageError(`${dir}: no such directory`);
  });
  if (!info.isDirectory()) throw new UsageError(`${dir}: not a directory (compare reads a trail tree)`);

  const ours: InsightRecord[] = [];
  let buffered = '';
  const collect = new Writable({
    write(chunk: Buffer, _encoding, done) {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== '') ours.push(JSON.parse(line) as InsightRecord);
      done();
    },
  });
  await detect([dir], options.tuning, collect, progress, options.maxFileBytes, options.eventCategories);

  const aws: InsightRecord[] = [];
  const rejects: Reject[] = [];
  let files = 0;
  for await (const path of listInsightFiles(dir)) {
    files++;
    const read = parseInsightRecordsBuffer(await readFile(path), path, options.maxFileBytes);
    aws.push(...read.records);
    rejects.push(...read.rejects);
  }
  progress.note(`read ${aws.length} AWS Insights records from ${files} CloudTrail-Insight files`);
  for (const reject of rejects.slice(0, 5))
    progress.note(`rejected ${reject.reason}: ${reject.origin}: ${reject.detail}`);
  if (rejects.length > 5) progress.note(`... and ${rejects.length - 5} more rejects`);
  if (files === 0)
    progress.note(`no CloudTrail-Insight files under ${dir}: every Trailsight insight is only-Trailsight`);

  const comparison = compareInsights(insightsOf(aws), insightsOf(ours), options.toleranceMinutes);
  progress.note(table(comparison));
  out.write(`${JSON.stringify({ ...comparison, rejects: rejects.length }, null, 2)}\n`);
  return comparison;
}

function table({ matched, onlyAws, onlyTrailsight }: InsightComparison): string {
  const rows: string[][] = [
    ['outcome', 'insightType', 'api', 'errorCode', 'AWS start', 'Trailsight start', 'delta min'],
  ];
  const api = (i: { eventSource: string; eventName: string }) => `${i.eventSource}:${i.eventName}`;
  for (const m of matched) {
    rows.push([
      'matched',
      m.aws.insightType,
      api(m.aws),
      m.aws.errorCode ?? '-',
      m.aws.start,
      m.trailsight.start,
      String(m.startDeltaMinutes),
    ]);
  }
  for (const i of onlyAws) rows.push(['only-AWS', i.insightType, api(i), i.errorCode ?? '-', i.start, '-', '-']);
  for (const i of onlyTrailsight)
    rows.push(['only-Trailsight', i.insightType, api(i), i.errorCode ?? '-', '-', i.start, '-']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd(),
  );
  lines.push(`matched ${matched.length}, only-AWS ${onlyAws.length}, only-Trailsight ${onlyTrailsight.length}`);
  return lines.join('\n');
}
