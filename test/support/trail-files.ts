import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type AccountRegion, type CloudTrailRecord, MINUTE_MS } from '@trailsight/domain';
import { TrafficGenerator } from '@trailsight/simulator';

/** One file written by writeTrail. */
export interface WrittenTrailFile {
  path: string;
  source: AccountRegion;
  /** The delivery time in its name (epoch ms). */
  deliveredAt: number;
  /** Distinct eventIDs it holds. */
  events: number;
}

/**
 * A trail as CloudTrail writes it, under `root` in the S3 key layout: for each account-region of
 * one account, a CloudTrail-named `.json.gz` file per 5 minutes over the last `minutes`, holding
 * the simulator's generated records of those 5 minutes. Files in delivery order.
 */
export function writeTrail(
  root: string,
  options: { accountId: string; regions: string[]; eventsPerMinute: number; minutes?: number; seed?: number },
): WrittenTrailFile[] {
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const generator = new TrafficGenerator({
    seed: options.seed ?? 3,
    accounts: [options.accountId],
    regions: options.regions,
    eventsPerMinute: options.eventsPerMinute,
  });
  const files: WrittenTrailFile[] = [];
  for (let start = now - (options.minutes ?? 60) * MINUTE_MS; start < now - 5 * MINUTE_MS; start += 5 * MINUTE_MS) {
    for (const source of generator.sources()) {
      const records: CloudTrailRecord[] = [];
      for (let m = 0; m < 5; m++) records.push(...generator.eventsForMinute(source, start + m * MINUTE_MS));
      const deliveredAt = start + 5 * MINUTE_MS;
      const iso = new Date(deliveredAt).toISOString();
      const folder = join(
        root,
        'AWSLogs',
        source.accountId,
        'CloudTrail',
        source.region,
        ...iso.slice(0, 10).split('-'),
      );
      mkdirSync(folder, { recursive: true });
      const stamp = `${iso.slice(0, 10).replace(/-/g, '')}T${iso.slice(11, 16).replace(':', '')}Z`;
      // CloudTrail's unique part: 16 letters and digits.
      const unique = `${source.region.replace(/-/g, '')}${stamp}`.slice(0, 16).padEnd(16, 'q');
      const path = join(folder, `${source.accountId}_CloudTrail_${source.region}_${stamp}_${unique}.json.gz`);
      writeFileSync(path, gzipSync(JSON.stringify({ Records: records })));
      files.push({ path, source, deliveredAt, events: new Set(records.map((r) => r.eventID)).size });
    }
  }
  return files;
}
