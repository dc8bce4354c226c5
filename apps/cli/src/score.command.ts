import { readFile } from 'node:fs/promises';
import { scoreSeries, type DetectorTuning, type SeriesKind } from '@trailsight/detection';
import { UsageError } from './usage-error.js';

/**
 * `score --csv <file>`: a `timestamp,value` series (header optional) to
 * `timestamp,value,score,anomaly` on `out`, through the same detector core. The step is the
 * series' most common interval; it must divide an hour (NAB's series are 5-minute steps).
 * Counts (non-negative integers) go through the Poisson path, anything else through the
 * continuous model, which places each row at its own time of day.
 */
export async function score(
  csvPath: string,
  tuning: Partial<DetectorTuning>,
  out: NodeJS.WritableStream,
  kind: SeriesKind | 'auto' = 'auto',
): Promise<number> {
  const text = await readFile(csvPath, 'utf8').catch((error: Error) => {
    throw new UsageError(`${csvPath}: ${error.message}`);
  });
  const rows = parseSeries(text, csvPath);
  const stepMs = commonStep(rows.map((row) => row.time));
  if (86_400_000 % stepMs !== 0 || 3_600_000 % stepMs !== 0) {
    throw new UsageError(`${csvPath}: the series steps every ${stepMs / 1000} s, which does not divide an hour`);
  }
  const scored = scoreSeries(
    rows.map((row) => row.value),
    {
      stepsPerDay: 86_400_000 / stepMs,
      startTime: rows[0]?.time ?? 0,
      times: rows.map((row) => row.time),
      tuning,
      kind,
    },
  );
  out.write('timestamp,value,score,anomaly\n');
  rows.forEach((row, i) => {
    const point = scored[i];
    out.write(`${row.raw},${row.value},${point?.score.toFixed(6)},${point?.anomaly ? 1 : 0}\n`);
  });
  return rows.length;
}

interface Row {
  raw: string;
  time: number;
  value: number;
}

function parseSeries(text: string, path: string): Row[] {
  const rows: Row[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const [rawTime = '', rawValue = ''] = line.split(',');
    const value = Number(rawValue);
    // NAB writes "2015-02-26 21:42:53": a UTC time with a space.
    const time = Date.parse(/^\d{4}-\d\d-\d\d \d/.test(rawTime) ? `${rawTime.replace(' ', 'T')}Z` : rawTime);
    if (Number.isNaN(time) || rawValue.trim() === '' || !Number.isFinite(value)) {
      if (index === 0) return; // a header
      throw new UsageError(`${path}:${index + 1}: expected "timestamp,value", got "${line.slice(0, 80)}"`);
    }
    rows.push({ raw: rawTime, time, value });
  });
  if (rows.length < 2) throw new UsageError(`${path}: needs at least two rows of timestamp,value`);
  return rows;
}

function commonStep(times: readonly number[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < times.length; i++) {
    const step = (times[i] ?? 0) - (times[i - 1] ?? 0);
    if (step > 0) counts.set(step, (counts.get(step) ?? 0) + 1);
  }
  let best = 0;
  let bestCount = 0;
  for (const [step, count] of counts) if (count > bestCount) [best, bestCount] = [step, count];
  return best;
}
