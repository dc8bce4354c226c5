import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  listTrailFiles,
  parseTrailFileKey,
  streamSlimEvents,
  type ReadResult,
  type RejectReason,
} from '@trailsight/cloudtrail';
import { DEFAULT_TUNING, OfflineDetector, type DetectorTuning } from '@trailsight/detection';
import type { InsightsEventCategory } from '@trailsight/domain';
import type { Progress } from './progress.js';
import { UsageError } from './usage-error.js';

export interface DetectSummary {
  files: number;
  records: number;
  duplicates: number;
  /** Events of a category not analysed (data events without Data in the categories). */
  skipped: number;
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
  /** Largest decompressed file read (a gzip bomb guard): past it, one too-large reject. */
  maxFileBytes: number,
  eventCategories: readonly InsightsEventCategory[] = ['Management'],
): Promise<DetectSummary> {
  if (paths.length === 0) throw new UsageError('detect needs at least one file or directory');
  for (const path of paths) {
    await stat(path).catch(() => {
      throw new UsageError(`${path}: no such file or directory`);
    });
  }
  const detector = new OfflineDetector({ ...DEFAULT_TUNING, ...tuning }, {}, eventCategories);
  const summary: DetectSummary = { files: 0, records: 0, duplicates: 0, skipped: 0, rejected: {}, insights: 0 };
  const firstRejects = new Map<RejectReason, string>();
  const noteRejects = (rejects: ReadResult['rejects'], file: string) => {
    for (const reject of rejects) {
      summary.rejected[reject.reason] = (summary.rejected[reject.reason] ?? 0) + 1;
      if (!firstRejects.has(reject.reason))
        firstRejects.set(reject.reason, `${reject.origin ?? file}: ${reject.detail}`);
    }
  };

  // Listed first, so the progress bar knows the total size.
  const files: Array<{ path: string; size: number }> = [];
  for (const root of paths) {
    for await (const path of listTrailFiles(root)) files.push({ path, size: (await stat(path)).size });
  }
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  let doneBytes = 0;

  for (const { path: file, size } of files) {
    const before = doneBytes;
    const counted = (chunk: Buffer) => {
      doneBytes += chunk.length;
    };
    const account = parseTrailFileKey(file)?.accountId;
    try {
      // The same streaming reader and checks as the detector's file workers: bounded memory per file.
      for await (const { groups, rejects } of streamSlimEvents(readCounting(file, counted), file, account, {
        maxInputBytes: maxFileBytes,
      })) {
        for (const { source, events } of groups) {
          summary.records += events.length;
          for (const event of events) detector.add(source, event);
        }
        noteRejects(rejects, file);
        progress.bar(doneBytes, totalBytes, summary.records, `${summary.files + 1}/${files.length} files`);
      }
    } catch (error) {
      noteRejects(
        [{ reason: 'unknown-format', detail: `cannot read: ${(error as Error).message}`, origin: file }],
        file,
      );
    }
    doneBytes = before + size;
    summary.files++;
    progress.bar(doneBytes, totalBytes, summary.records, `${summary.files}/${files.length} files`);
  }
  summary.duplicates = detector.duplicates;
  summary.skipped = detector.skipped;
  progress.done(
    `read ${summary.records} records from ${summary.files} files (${detector.duplicates} duplicate eventIDs counted once)`,
  );
  if (summary.skipped > 0) {
    progress.note(
      `skipped ${summary.skipped} events of categories not analysed (${eventCategories.join(',')}; --event-categories Management,Data adds data events)`,
    );
  }
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

/** A file's bytes, each chunk reported to `onChunk` as it is read (for the progress bar). */
async function* readCounting(path: string, onChunk: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    onChunk(chunk as Buffer);
    yield chunk as Buffer;
  }
}
