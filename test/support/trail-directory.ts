import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type AccountRegion, type CloudTrailRecord, MINUTE_MS } from '@trailsight/domain';
import type { TrafficGenerator } from '@trailsight/simulator';

export interface TrailDirectoryOptions {
  /** First minute written (epoch ms, minute-aligned). */
  fromMs: number;
  minutes: number;
  /** Add the generator's data events (dataEventsForMinute) to each file, as a trail with data-event selectors. */
  withDataEvents: boolean;
  /** Minutes per file; CloudTrail delivers about every 5 minutes. Default 5. */
  minutesPerFile?: number;
}

/**
 * Writes a generator's history as gzipped trail files under AWS's S3 key layout,
 * `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`.
 * File names depend only on the source and the minutes, so a directory written with and one
 * without data events hold the same files. Returns the records written per category.
 */
export function writeTrailDirectory(
  root: string,
  generator: TrafficGenerator,
  source: AccountRegion,
  options: TrailDirectoryOptions,
): { management: number; data: number } {
  const perFile = options.minutesPerFile ?? 5;
  const written = { management: 0, data: 0 };
  for (let first = 0; first < options.minutes; first += perFile) {
    const records: CloudTrailRecord[] = [];
    for (let m = first; m < Math.min(first + perFile, options.minutes); m++) {
      const minute = options.fromMs + m * MINUTE_MS;
      const management = generator.eventsForMinute(source, minute);
      records.push(...management);
      written.management += management.length;
      if (options.withDataEvents) {
        const data = generator.dataEventsForMinute(source, minute);
        records.push(...data);
        written.data += data.length;
      }
    }
    // Delivered a few minutes after the last minute it holds, as CloudTrail does.
    const delivered = new Date(options.fromMs + (first + perFile + 5) * MINUTE_MS).toISOString();
    const stamp = `${delivered.slice(0, 4)}${delivered.slice(5, 7)}${delivered.slice(8, 10)}T${delivered.slice(11, 13)}${delivered.slice(14, 16)}Z`;
    const folder = join(
      root,
      'AWSLogs',
      source.accountId,
      'CloudTrail',
      source.region,
      delivered.slice(0, 4),
      delivered.slice(5, 7),
      delivered.slice(8, 10),
    );
    mkdirSync(folder, { recursive: true });
    const name = `${source.accountId}_CloudTrail_${source.region}_${stamp}_${String(first).padStart(16, '0')}.json.gz`;
    writeFileSync(join(folder, name), gzipSync(JSON.stringify({ Records: records })));
  }
  return written;
}
