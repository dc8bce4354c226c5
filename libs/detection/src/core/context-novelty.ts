export interface ContextNoveltyOptions {
  /** Equal-width levels the warm-up range (padded by 10% each side) is cut into. */
  levels: number;
  /** Points that fix the range and are learned but never flagged. */
  warmup: number;
}

/**
 * Novelty of each point's short context (after contextOSE): values are quantised into `levels`
 * equal bins of the range seen in the first `warmup` points (padded by 10% each side; values past
 * it fall into one bin below or above), and a point is novel when the step from the previous
 * point's bin to its own was never seen before. A new extreme, a jump between levels the series
 * never jumped between, or a change of shape the daily pattern never had is novel once; what has
 * happened before, however large, is not. Range fixed after warm-up so that old contexts keep
 * their meaning (until a series is not constant, the range keeps growing). Pure: no I/O, no clock.
 */
export function contextNovelty(values: readonly number[], options: ContextNoveltyOptions): boolean[] {
  const { levels, warmup } = options;
  const seen = new Set<number>();
  const span = levels + 3;
  let min = Infinity;
  let max = -Infinity;
  let previous = NaN;
  return values.map((value, i) => {
    if (i < warmup || !(max > min)) {
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    const pad = 0.1 * (max - min);
    const width = (max - min + 2 * pad) / levels;
    const bin = width > 0 ? Math.min(levels, Math.max(-1, Math.floor((value - (min - pad)) / width))) : 0;
    // Bins -1..levels, so previous * span + bin identifies the step.
    const step = (previous + 1) * span + (bin + 1);
    const novel = !Number.isNaN(previous) && !seen.has(step);
    if (novel) seen.add(step);
    previous = bin;
    return novel && i >= warmup;
  });
}
