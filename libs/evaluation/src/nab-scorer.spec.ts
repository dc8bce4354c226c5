import {
  leaveOneFileOut,
  nabScore,
  NAB_STANDARD_PROFILE,
  probationaryLength,
  scaledSigmoid,
  scoresByThreshold,
  sweepRows,
} from './nab-scorer.js';
import { erfc, windowedGaussianScores } from './windowed-gaussian.js';

/**
 * A hand-made file: 10 rows, one window over rows 4-6 (width 3), row 0 probationary
 * (min(floor(0.15 × 10), 750) = 1). Row 5 scores 0.9, row 8 scores 0.8, the rest 0.
 * scaledSigmoid(x) = 2/(1 + e^(5x)) - 1 = tanh(-5x/2), so by hand:
 * - threshold 0.9: row 5 is a TP at position -(6 - 5 + 1)/3 = -2/3:
 *   tanh(5/3) / tanh(5/2) = 0.931110 / 0.986614 = 0.943742.
 * - threshold 0.8: row 8 is an FP at |6 - 8| / (3 - 1) = 1 past the window:
 *   0.11 × -tanh(5/2) = -0.108528, total 0.835215.
 * - threshold 0 (every row): rows 1-3 are FPs before any window (-0.11 each); the window's best
 *   row is 4 (position -1, worth exactly 1); rows 7-9 sit 1/2, 1, 3/2 past it:
 *   1 - 0.33 - 0.11 × (tanh 1.25 + tanh 2.5 + tanh 3.75) = 1 - 0.33 - 0.311717 = 0.358283.
 * The null detector (0.5 everywhere) is best detecting everything, 0.358283; the perfect one
 * scores 1; normalised: 100 × (0.943742 - 0.358283) / (1 - 0.358283) = 91.233.
 */
const file = {
  name: 'hand.csv',
  scores: [0, 0, 0, 0, 0, 0.9, 0, 0, 0.8, 0],
  windows: [[4, 6]] as Array<[number, number]>,
};

describe('NAB scorer', () => {
  it('has NAB scaledSigmoid values at the window edges', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(probationaryLength(10)).toBe(1);
    expect(probationaryLength(100_000)).toBe(750);
  });

  it('scores the hand-made file at every threshold', () => {
    const byThreshold = scoresByThreshold(sweepRows(file, NAB_STANDARD_PROFILE), NAB_STANDARD_PROFILE);
    const at = (t: number) => byThreshold.find((s) => s.threshold === t)!.score;
    expect(at(1.1)).toBe(-1);
    expect(at(0.9)).toBeCloseTo(0.943742, 6);
    expect(at(0.8)).toBeCloseTo(0.835215, 6);
    expect(at(0)).toBeCloseTo(0.358283, 6);
    expect(byThreshold.find((s) => s.threshold === 0.8)).toMatchObject({ tp: 1, fp: 1, fn: 2, tn: 5 });
  });

  it('optimises the threshold and normalises between the null and perfect detectors', () => {
    const result = nabScore([file], NAB_STANDARD_PROFILE);
    expect(result.threshold).toBe(0.9);
    expect(result.raw).toBeCloseTo(0.943742, 6);
    expect(result.nullScore).toBeCloseTo(0.358283, 6);
    expect(result.perfectScore).toBeCloseTo(1, 12);
    expect(result.normalised).toBeCloseTo(91.233, 2);
    expect(result.windowsDetected).toBe(1);
  });

  it('leave-one-file-out scores each file at the threshold the other files choose', () => {
    // The mirror file: its FP (row 8) outranks its TP (row 5), so alone it chooses 0.8, while
    // the hand file alone chooses 0.9. Together (in-sample) both choose 0.8: 2 × 0.835215.
    const mirror = { ...file, name: 'mirror.csv', scores: [0, 0, 0, 0, 0, 0.8, 0, 0, 0.9, 0] };
    const both = nabScore([file, mirror], NAB_STANDARD_PROFILE);
    expect(both.threshold).toBe(0.8);
    expect(both.raw).toBeCloseTo(2 * 0.835215, 5);
    expect(both.nullScore).toBeCloseTo(2 * 0.358283, 5);
    // Out of sample: the hand file at 0.8 (0.835215), the mirror at 0.9: its FP and a missed
    // window, -0.108528 - 1.
    const lofo = leaveOneFileOut([file, mirror], both);
    expect(lofo.thresholds).toEqual([0.8, 0.9]);
    const raw = 0.835215 - 1.108528;
    expect(lofo.normalised).toBeCloseTo((100 * (raw - 2 * 0.358283)) / (2 - 2 * 0.358283), 3);
    expect(lofo.normalised).toBeLessThan(both.normalised);
  });
});

describe('windowedGaussian', () => {
  it('scores 1 - Q(|z|) against the window before each point', () => {
    const scores = windowedGaussianScores([1, 2, 3, 10, 2], { windowSize: 3, stepSize: 1 });
    expect(scores[0]).toBe(0);
    expect(scores[1]).toBe(1); // one value: std 1e-6
    expect(scores[2]).toBeCloseTo(1 - 0.5 * erfc(3 / Math.SQRT2), 12); // mean 1.5, std 0.5, z = 3
    expect(scores[2]).toBeCloseTo(0.99865, 5);
    // window [1, 2, 3]: mean 2, population std sqrt(2/3): 10 is z = 9.8
    expect(scores[3]).toBe(1);
    // window slid to [2, 3, 10]: mean 5, std 3.5590; 2 is z = 0.843 below, mirrored
    expect(scores[4]).toBeCloseTo(1 - 0.5 * erfc(3 / 3.559026084010437 / Math.SQRT2), 9);
  });

  it('computes erfc to double precision', () => {
    expect(erfc(0.3)).toBeCloseTo(0.671373240540873, 14);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 14);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
    expect(erfc(-1)).toBeCloseTo(2 - 0.157299207050285, 14);
  });
});
