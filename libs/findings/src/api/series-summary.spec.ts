import { summarizeSeries } from './series-summary.js';
import { MINUTE_MS } from '@trailsight/domain';

const at = (i: number, value: number) => ({ minute: 1_700_000_040_000 + i * MINUTE_MS, value });

describe('summarizeSeries', () => {
  const points = [at(0, 1), at(1, 3), at(2, 2), at(3, 30), at(4, 50), at(5, 40), at(6, 2)];
  const start = points[3].minute;

  it('splits the context before the start from the insight, and ends the insight at its end', () => {
    expect(summarizeSeries(points, start, points[6].minute)).toEqual({
      context: { minutes: 3, mean: 2, median: 2, min: 1, max: 3 },
      insight: { minutes: 3, mean: 40, median: 40, min: 30, max: 50 },
    });
  });

  it('runs an open insight to the last point', () => {
    expect(summarizeSeries(points, start).insight).toEqual({ minutes: 4, mean: 30.5, median: 35, min: 2, max: 50 });
  });

  it('says null for a span without points', () => {
    expect(summarizeSeries([], start)).toEqual({ context: null, insight: null });
    expect(summarizeSeries(points.slice(3), start).context).toBeNull();
  });
});
