import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readRecordsFile, toSlimEvent } from '@trailsight/cloudtrail';
import { counterFields, isSeriesField, MINUTE_MS } from '@trailsight/domain';

/** One Stratus Red Team detonation as per-minute counts of the series it touches. */
export interface Detonation {
  /** The technique, e.g. `aws.credential-access.ec2-get-password-data`. */
  name: string;
  events: number;
  /** Minutes from the detonation's first minute to its last, inclusive. */
  minutes: number;
  /** Series key (`c|src|name` for write calls, `e|src|name|code` for errors) -> count per minute offset. */
  series: Map<string, Map<number, number>>;
  rejects: number;
}

/**
 * The detonation logs of a directory, counted exactly as the ingest counts events (series-key.ts):
 * each write call adds 1 to its call-rate series, each failed call (read or write) 1 to the
 * error-rate series of its code. Read-only successful calls touch no series.
 */
export async function loadDetonations(dir: string): Promise<Detonation[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const out: Detonation[] = [];
  for (const file of files) {
    const { records, rejects } = await readRecordsFile(join(dir, file));
    const events = records.map((record) => toSlimEvent(record));
    if (events.length === 0) continue;
    const first = Math.min(...events.map((e) => Math.floor(e.eventTimeMs / MINUTE_MS)));
    const last = Math.max(...events.map((e) => Math.floor(e.eventTimeMs / MINUTE_MS)));
    const series = new Map<string, Map<number, number>>();
    const add = (key: string, offset: number) => {
      let counts = series.get(key);
      if (!counts) series.set(key, (counts = new Map<number, number>()));
      counts.set(offset, (counts.get(offset) ?? 0) + 1);
    };
    for (const e of events) {
      const offset = Math.floor(e.eventTimeMs / MINUTE_MS) - first;
      for (const field of counterFields(e)) if (isSeriesField(field)) add(field, offset);
    }
    out.push({
      name: file.replace(/\.json$/, ''),
      events: events.length,
      minutes: last - first + 1,
      series,
      rejects: rejects.length,
    });
  }
  return out;
}
