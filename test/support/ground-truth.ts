import { callSeriesField, errorSeriesField, isSeriesField, type AccountRegion } from '@trailsight/domain';
import type { MinuteCounters } from '@trailsight/detection';

/** One row of the simulator's GET /truth. */
export interface TruthRow {
  minute: string | number;
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  calls: number;
  errors: Record<string, number>;
}

/** Series counts keyed "<account>:<region>|<minute ms>|<counter field>", as the detector should have them. */
export type SeriesCounts = Map<string, number>;

export async function fetchTruth(simulatorUrl: string, sinceMs: number, untilMs: number): Promise<TruthRow[]> {
  const response = await fetch(`${simulatorUrl}/truth?since=${sinceMs}&until=${untilMs}`);
  if (!response.ok) throw new Error(`GET /truth: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { rows: TruthRow[] }).rows;
}

/**
 * What the counters must hold for the truth: write calls under c|src|name, errors (read and
 * write) under e|src|name|code. Attribution fields are checked by the counter's own tests.
 */
export function expectedSeriesCounts(rows: readonly TruthRow[]): SeriesCounts {
  const counts: SeriesCounts = new Map();
  const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  for (const row of rows) {
    const minute = typeof row.minute === 'number' ? row.minute : Date.parse(row.minute);
    const prefix = `${row.accountId}:${row.region}|${minute}|`;
    if (!row.readOnly && row.calls > 0) add(prefix + callSeriesField(row.eventSource, row.eventName), row.calls);
    for (const [code, n] of Object.entries(row.errors))
      add(prefix + errorSeriesField(row.eventSource, row.eventName, code), n);
  }
  return counts;
}

export function storedSeriesCounts(source: AccountRegion, minutes: readonly MinuteCounters[]): SeriesCounts {
  const counts: SeriesCounts = new Map();
  for (const { minute, fields } of minutes) {
    for (const [field, n] of Object.entries(fields)) {
      if (isSeriesField(field)) {
        counts.set(`${source.accountId}:${source.region}|${minute}|${field}`, n);
      }
    }
  }
  return counts;
}

/** A short description of how two count maps differ ('' when equal). */
export function describeDifference(expected: SeriesCounts, actual: SeriesCounts, limit = 8): string {
  const lines: string[] = [];
  let differing = 0;
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(key) ?? 0;
    const got = actual.get(key) ?? 0;
    if (want === got) continue;
    differing++;
    if (lines.length < limit) lines.push(`${key}: expected ${want}, counted ${got}`);
  }
  return differing === 0 ? '' : `${differing} series-minutes differ, e.g.\n${lines.join('\n')}`;
}

export function total(counts: SeriesCounts): number {
  let sum = 0;
  for (const n of counts.values()) sum += n;
  return sum;
}
