import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scoreSeries, seriesKind, type SeriesKind } from '@trailsight/detection';
import {
  leaveOneFileOut,
  nabScore,
  NAB_STANDARD_PROFILE,
  normalisedAtThreshold,
  scoreAtThreshold,
  windowsDetected,
  type NabFile,
  type NabResult,
} from './nab-scorer.js';
import { windowedGaussianScores } from './windowed-gaussian.js';

/** One NAB data file: rows in order, with its label windows as row ranges. */
export interface NabDataSet {
  /** Key in combined_windows.json, e.g. `realTweets/Twitter_volume_AAPL.csv`. */
  name: string;
  timestamps: number[];
  values: number[];
  windows: Array<[number, number]>;
  /** Window limits that matched no row exactly and were snapped inward (NAB would not enter them). */
  snapped: number;
}

/** NAB timestamps ("2015-02-26 21:42:53" or with ".000000") as UTC epoch ms. */
function parseNabTime(text: string): number {
  const ms = Date.parse(
    `${text
      .trim()
      .replace(' ', 'T')
      .replace(/\.\d+$/, '')}Z`,
  );
  if (!Number.isFinite(ms)) throw new RangeError(`not a NAB timestamp: ${text}`);
  return ms;
}

/** Reads `<root>/data/<dir>/*.csv` and `<root>/labels/combined_windows.json`. */
export function loadNabDataSets(root: string, dir: string): NabDataSet[] {
  const windowsByFile = JSON.parse(readFileSync(join(root, 'labels', 'combined_windows.json'), 'utf8')) as Record<
    string,
    Array<[string, string]>
  >;
  const dataDir = join(root, 'data', dir);
  if (!existsSync(dataDir)) throw new Error(`no NAB data directory ${dataDir}`);
  return readdirSync(dataDir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((file) => {
      const name = `${dir}/${file}`;
      const lines = readFileSync(join(dataDir, file), 'utf8').split(/\r?\n/).slice(1);
      const timestamps: number[] = [];
      const values: number[] = [];
      for (const line of lines) {
        if (line.trim() === '') continue;
        const [t, v] = line.split(',');
        timestamps.push(parseNabTime(t));
        values.push(Number(v));
      }
      let snapped = 0;
      const windows = (windowsByFile[name] ?? []).map(([a, b]): [number, number] => {
        const start = parseNabTime(a);
        const end = parseNabTime(b);
        let i = timestamps.indexOf(start);
        let j = timestamps.indexOf(end);
        if (i < 0) {
          snapped++;
          i = timestamps.findIndex((t) => t >= start);
        }
        if (j < 0) {
          snapped++;
          j = timestamps.length - 1 - [...timestamps].reverse().findIndex((t) => t <= end);
        }
        return [i, j];
      });
      return { name, timestamps, values, windows, snapped };
    });
}

export interface NabComparison {
  trailsight: NabResult;
  windowedGaussian: NabResult;
  /**
   * windowedGaussian at the threshold NAB optimised over its whole corpus (1.0, in
   * results/windowedGaussian/windowedGaussian_standard_scores.csv), normalised the same way.
   */
  windowedGaussianAtCorpusThreshold: number | null;
  files: number;
  windows: number;
  rows: number;
  snappedWindowLimits: number;
}

/** Median step between rows: realTweets is one row per 5 minutes (288 a day). */
function stepsPerDay(timestamps: readonly number[]): number {
  const steps = timestamps.slice(1, 1001).map((t, i) => t - timestamps[i]);
  steps.sort((a, b) => a - b);
  const step = steps[steps.length >> 1] ?? 300_000;
  return Math.round(86_400_000 / step);
}

/**
 * NAB scores what its results files hold: Python 2 wrote anomaly scores with str(), 12
 * significant digits, so every score within 5e-13 of 1 is a tie at 1.0. Rounding the same way
 * reproduces NAB's published windowedGaussian per-file scores and counts on realTweets exactly.
 */
function asNabResultsFile(score: number): number {
  return Number(score.toPrecision(12));
}

/** scoreSeries over each file as `score --csv` runs it (kind from the values, each row's own time). */
function trailsightNabFiles(dataSets: readonly NabDataSet[]): Array<NabFile & { kind: SeriesKind }> {
  return dataSets.map((set) => {
    const scored = scoreSeries(set.values, {
      stepsPerDay: stepsPerDay(set.timestamps),
      startTime: set.timestamps[0],
      times: set.timestamps,
    });
    return {
      name: set.name,
      kind: seriesKind(set.values),
      scores: scored.map((p) => asNabResultsFile(p.score)),
      windows: set.windows,
    };
  });
}

/**
 * Scores the detector core (scoreSeries, the CLI `score --csv` path: one step per row) and NAB's
 * windowedGaussian baseline on the same files with NAB's standard profile.
 */
export function compareOnNab(dataSets: readonly NabDataSet[]): NabComparison {
  const ours = trailsightNabFiles(dataSets);
  const gaussian: NabFile[] = [];
  for (const set of dataSets) {
    gaussian.push({
      name: set.name,
      scores: windowedGaussianScores(set.values).map(asNabResultsFile),
      windows: set.windows,
    });
  }
  const windowedGaussian = nabScore(gaussian, NAB_STANDARD_PROFILE);
  const atCorpus = scoreAtThreshold(gaussian, 1.0, NAB_STANDARD_PROFILE);
  return {
    trailsight: nabScore(ours, NAB_STANDARD_PROFILE),
    windowedGaussian,
    windowedGaussianAtCorpusThreshold:
      atCorpus === null
        ? null
        : (100 * (atCorpus.score - windowedGaussian.nullScore)) /
          (windowedGaussian.perfectScore - windowedGaussian.nullScore),
    files: dataSets.length,
    windows: dataSets.reduce((n, s) => n + s.windows.length, 0),
    rows: dataSets.reduce((n, s) => n + s.values.length, 0),
    snappedWindowLimits: dataSets.reduce((n, s) => n + s.snapped, 0),
  };
}

export interface NabCategoryScore {
  /** At the one threshold NAB's optimiser picks over all the files given (chosen on them). */
  result: NabResult;
  /** Each file at the threshold optimised over the other files. */
  leaveOneFileOut: number;
  /** Files per kind seriesKind gave them, e.g. { continuous: 16, counts: 3 }. */
  kinds: Record<string, number>;
  /** The score of each subdirectory at the category's threshold, normalised on its own files. */
  byDirectory: Record<string, number | null>;
  files: Array<NabFile & { kind: SeriesKind }>;
  /** Each file at the category's threshold: raw score, windows detected, rows past it outside windows. */
  perFile: Array<{ name: string; kind: SeriesKind; raw: number; windows: string; fp: number }>;
}

/** The core on one NAB category (several data directories), scored with one threshold. */
export function scoreNabCategory(dataSets: readonly NabDataSet[]): NabCategoryScore {
  const files = trailsightNabFiles(dataSets);
  const result = nabScore(files, NAB_STANDARD_PROFILE);
  const kinds: Record<string, number> = {};
  for (const f of files) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
  const byDirectory: Record<string, number | null> = {};
  for (const dir of new Set(files.map((f) => f.name.split('/')[0]))) {
    const subset = files.filter((f) => f.name.startsWith(`${dir}/`));
    byDirectory[dir] = normalisedAtThreshold(subset, result.threshold, nabScore(subset, NAB_STANDARD_PROFILE));
  }
  const perFile = files.map((f) => {
    const at = scoreAtThreshold([f], result.threshold);
    return {
      name: f.name,
      kind: f.kind,
      raw: at?.score ?? 0,
      windows: `${windowsDetected([f], result.threshold)}/${f.windows.length}`,
      fp: at?.fp ?? 0,
    };
  });
  return { result, leaveOneFileOut: leaveOneFileOut(files, result).normalised, kinds, byDirectory, files, perFile };
}
