/**
 * The Numenta Anomaly Benchmark scorer, ported from NAB v1.1 (github.com/numenta/NAB, nab/sweeper.py
 * `Sweeper.calcSweepScore` / `calcScoreByThreshold`, nab/optimizer.py, nab/runner.py normalisation).
 *
 * - Every row after the probationary period (min(floor(15% of rows), 15% of 5000)) is scored.
 * - A detection inside a window scores tpWeight × scaledSigmoid(position) / scaledSigmoid(-1), with
 *   position -(right - i + 1) / width; only the best (earliest) detection of a window counts; a
 *   window without one costs fnWeight.
 * - A detection outside windows costs fpWeight × scaledSigmoid(|prevRight - i| / (prevWidth - 1)),
 *   or fpWeight × scaledSigmoid(3) = -fpWeight before the first window.
 * - The threshold is optimised over the whole corpus (every distinct anomaly score, detections are
 *   scores >= threshold), and the corpus score is normalised to 100 × (raw - null) / (perfect - null),
 *   the null detector scoring a constant 0.5 and the perfect one 1 inside windows, 0 outside, both
 *   through the same optimiser.
 *
 * Deviation: the threshold is optimised over the files given (here realTweets), not NAB's 58 files.
 */

export interface NabProfile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
  tnWeight: number;
}

/** NAB's "standard" application profile (config/profiles.json). */
export const NAB_STANDARD_PROFILE: Readonly<NabProfile> = Object.freeze({
  tpWeight: 1.0,
  fpWeight: 0.11,
  fnWeight: 1.0,
  tnWeight: 1.0,
});

const NAB_PROBATION_PERCENT = 0.15;

export interface NabFile {
  name: string;
  /** Anomaly score of each row, in row order. */
  scores: readonly number[];
  /** Anomaly windows as inclusive row-index ranges, in order, not overlapping. */
  windows: ReadonlyArray<readonly [number, number]>;
}

/** NAB's scaledSigmoid (sweeper.py): 2·sigmoid(-5x) - 1, and -1 from x >= 3 on. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3.0) return -1.0;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1.0;
}

export function probationaryLength(rows: number, probationPercent = NAB_PROBATION_PERCENT): number {
  return Math.min(Math.floor(probationPercent * rows), probationPercent * 5000);
}

export interface SweepRow {
  score: number;
  sweepScore: number;
  /** Window id, null outside windows, 'probationary' inside the probationary period. */
  window: string | null;
}

/** Sweeper.calcSweepScore: each row's score if it were a detection. */
export function sweepRows(file: NabFile, profile: NabProfile, probationPercent = NAB_PROBATION_PERCENT): SweepRow[] {
  const maxTP = scaledSigmoid(-1.0);
  const probation = probationaryLength(file.scores.length, probationPercent);
  const windows = [...file.windows];
  let cur: readonly [number, number] | null = null;
  let curName: string | null = null;
  let prevRight: number | null = null;
  let prevWidth = 0;
  return file.scores.map((score, i) => {
    if (windows.length > 0 && i === windows[0][0]) {
      cur = windows.shift()!;
      curName = `${file.name}|${cur[0]}`;
    }
    let sweepScore: number;
    if (cur !== null) {
      const width = cur[1] - cur[0] + 1;
      sweepScore = (scaledSigmoid(-(cur[1] - i + 1) / width) * profile.tpWeight) / maxTP;
    } else {
      const position = prevRight === null ? 3.0 : Math.abs(prevRight - i) / (prevWidth - 1);
      sweepScore = scaledSigmoid(position) * profile.fpWeight;
    }
    const row: SweepRow = { score, sweepScore, window: i >= probation ? curName : 'probationary' };
    if (cur !== null && i === cur[1]) {
      prevRight = i;
      prevWidth = cur[1] - cur[0] + 1;
      cur = null;
      curName = null;
    }
    return row;
  });
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Sweeper.calcScoreByThreshold: the corpus score at every distinct threshold, highest first. */
export function scoresByThreshold(rows: readonly SweepRow[], profile: NabProfile): ThresholdScore[] {
  const scorable = rows.filter((r) => r.window !== 'probationary').sort((a, b) => b.score - a.score);
  const windowParts = new Map<string, number>();
  for (const r of scorable) if (r.window !== null) windowParts.set(r.window, -profile.fnWeight);
  let fpPart = 0;
  let windowSum = -profile.fnWeight * windowParts.size;
  let tn = scorable.filter((r) => r.window === null).length;
  let fn = scorable.length - tn;
  let tp = 0;
  let fp = 0;
  const out: ThresholdScore[] = [];
  let threshold = 1.1;
  for (const r of scorable) {
    if (r.score !== threshold) {
      out.push({ threshold, score: fpPart + windowSum, tp, fp, fn, tn });
      threshold = r.score;
    }
    if (r.window === null) {
      fp++;
      tn--;
      fpPart += r.sweepScore;
    } else {
      tp++;
      fn--;
      const before = windowParts.get(r.window)!;
      const after = Math.max(before, r.sweepScore);
      windowParts.set(r.window, after);
      windowSum += after - before;
    }
  }
  out.push({ threshold, score: fpPart + windowSum, tp, fp, fn, tn });
  return out;
}

/** The best threshold (the highest one among equal scores, as NAB's stable sort keeps). */
function optimiseThreshold(
  files: readonly NabFile[],
  profile: NabProfile,
  probationPercent = NAB_PROBATION_PERCENT,
): ThresholdScore {
  const rows = files.flatMap((f) => sweepRows(f, profile, probationPercent));
  const all = scoresByThreshold(rows, profile);
  return all.reduce((best, s) => (s.score > best.score ? s : best), all[0]);
}

/** Sweeper.scoreDataSet's pick: the score at `threshold`, or at the last threshold above it. */
export function scoreAtThreshold(
  files: readonly NabFile[],
  threshold: number,
  profile: NabProfile = NAB_STANDARD_PROFILE,
  probationPercent = NAB_PROBATION_PERCENT,
): ThresholdScore | null {
  const all = scoresByThreshold(
    files.flatMap((f) => sweepRows(f, profile, probationPercent)),
    profile,
  );
  let prev: ThresholdScore | null = null;
  for (const s of all) {
    if (s.threshold === threshold) return s;
    if (s.threshold < threshold) return prev;
    prev = s;
  }
  return prev;
}

/** Windows (after the probationary period) holding at least one score >= threshold. */
export function windowsDetected(
  files: readonly NabFile[],
  threshold: number,
  probationPercent = NAB_PROBATION_PERCENT,
): number {
  let n = 0;
  for (const f of files) {
    const probation = probationaryLength(f.scores.length, probationPercent);
    for (const [a, b] of f.windows) {
      for (let i = Math.max(a, probation); i <= b; i++) {
        if (f.scores[i] >= threshold) {
          n++;
          break;
        }
      }
    }
  }
  return n;
}

export interface NabResult {
  /** 100 × (raw - null) / (perfect - null). */
  normalised: number;
  raw: number;
  threshold: number;
  windows: number;
  windowsDetected: number;
  nullScore: number;
  perfectScore: number;
  counts: { tp: number; fp: number; fn: number; tn: number };
}

export function nabScore(
  files: readonly NabFile[],
  profile: NabProfile = NAB_STANDARD_PROFILE,
  probationPercent = NAB_PROBATION_PERCENT,
): NabResult {
  const best = optimiseThreshold(files, profile, probationPercent);
  const nullFiles = files.map((f) => ({ ...f, scores: f.scores.map(() => 0.5) }));
  const perfectFiles = files.map((f) => {
    const scores = new Array<number>(f.scores.length).fill(0);
    for (const [a, b] of f.windows) for (let i = a; i <= b; i++) scores[i] = 1;
    return { ...f, scores };
  });
  const nullScore = optimiseThreshold(nullFiles, profile, probationPercent).score;
  const perfectScore = optimiseThreshold(perfectFiles, profile, probationPercent).score;
  return {
    normalised: normaliseNab(best.score, { nullScore, perfectScore }),
    raw: best.score,
    threshold: best.threshold,
    windows: files.reduce((n, f) => n + f.windows.length, 0),
    windowsDetected: windowsDetected(files, best.threshold, probationPercent),
    nullScore,
    perfectScore,
    counts: { tp: best.tp, fp: best.fp, fn: best.fn, tn: best.tn },
  };
}

/** `raw` normalised as nabScore does, against the same files' null and perfect scores. */
function normaliseNab(raw: number, reference: Pick<NabResult, 'nullScore' | 'perfectScore'>): number {
  return (100 * (raw - reference.nullScore)) / (reference.perfectScore - reference.nullScore);
}

/** The corpus score at a threshold chosen elsewhere, normalised; null when no row reaches it. */
export function normalisedAtThreshold(
  files: readonly NabFile[],
  threshold: number,
  reference: Pick<NabResult, 'nullScore' | 'perfectScore'>,
  profile: NabProfile = NAB_STANDARD_PROFILE,
): number | null {
  const at = scoreAtThreshold(files, threshold, profile);
  return at === null ? null : normaliseNab(at.score, reference);
}

/**
 * Leave-one-file-out: each file scored at the threshold NAB's optimiser picks over the other
 * files, the raw scores summed and normalised as nabScore: a threshold never chosen on the file
 * it is scored on.
 */
export function leaveOneFileOut(
  files: readonly NabFile[],
  reference: Pick<NabResult, 'nullScore' | 'perfectScore'>,
  profile: NabProfile = NAB_STANDARD_PROFILE,
): { normalised: number; thresholds: number[] } {
  let raw = 0;
  const thresholds = files.map((file, i) => {
    const threshold = optimiseThreshold(
      files.filter((_, j) => j !== i),
      profile,
    ).threshold;
    raw += scoreAtThreshold([file], threshold, profile)?.score ?? 0;
    return threshold;
  });
  return { normalised: normaliseNab(raw, reference), thresholds };
}
