import { stat } from 'node:fs/promises';
import {
  accountRegionOf,
  listTrailFiles,
  readRecordsFile,
  toSlimEvent,
  type RejectReason,
} from '@trailsight/cloudtrail';
import { DEFAULT_TUNING, OfflineDetector, type DetectorTuning } from '@trailsight/detection';
import type { Progress } from './progress.js';

export interface DetectSummary {
  files: number;
  records: number;
  duplicates: number;
  rejected: Partial<Record<RejectReason, number>>;
  insights: number;
}

/**
 * `detect <files or dirs...>`: CloudTrail logs in any form users have (trail files .json/.json.gz,
 * JSON arrays, NDJSON, saved LookupEvents output) to Insights records, NDJSON on `out`.
 */
export async function detect(
  paths: readonly string[],
  tuning: Partial<DetectorTuning>,
  out: NodeJS.WritableStream,
  progress: Progress,
): Promise<DetectSummary> {
  if (paths.length === 0) throw new UsageError('detect needs at least one file or directory');
  for (const path of paths) {
    await stat(path).catch(() => {
      throw new UsageError(`${path}: no such file or directory`);
    });
  }
  const detector = new OfflineDetector({ ...DEFAULT_TUNING, ...tuning });
  const summary: DetectSummary = { files: 0, records: 0, duplicates: 0, rejected: {}, insights: 0 };
  const firstRejects = new Map<RejectReason, string>();

  for (const root of paths) {
    for await (const file of listTrailFiles(root)) {
      const { records, rejects } = await readRecordsFile(file).catch((error: unknown) => ({
        records: [],
        rejects: [
          { reason: 'unknown-format' as const, detail: `cannot read: ${(error as Error).message}`, origin: file },
        ],
      }));
      summary.files++;
      summary.records += records.length;
      for (const record of records) detector.add(accountRegionOf(record), toSlimEvent(record));
      for (const reject of rejects) {
        summary.rejected[reject.reason] = (summary.rejected[reject.reason] ?? 0) + 1;
        if (!firstRejects.has(reject.reason))
          firstRejects.set(reject.reason, `${reject.origin ?? file}: ${reject.detail}`);
      }
      progress.update(`read ${summary.files} files, ${summary.records} records`);
    }
  }
  summary.duplicates = detector.duplicates;
  progress.done(
    `read ${summary.records} records from ${summary.files} files (${detector.duplicates} duplicate eventIDs counted once)`,
  );
  for (const [reason, first] of firstRejects) {
    progress.note(`rejected ${summary.rejected[reason]} ${reason}, e.g. ${first}`);
  }

  for (const insight of detector.insights()) {
    out.write(`${JSON.stringify(insight.record)}\n`);
    summary.insights++;
  }
  progress.note(`${summary.insights} Insights records`);
  return summary;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}
