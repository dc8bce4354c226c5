/**
 * NAB's windowedGaussian baseline (nab/detectors/gaussian/windowedGaussian_detector.py at NAB
 * v1.1): the anomaly score of a value is 1 - Q(|z|), z against the mean and population standard
 * deviation of a window of past values. The window fills point by point up to windowSize = 6400,
 * then slides forward stepSize = 100 points at a time; a zero standard deviation becomes 1e-6.
 * The first point scores 0.
 */
export interface WindowedGaussianOptions {
  windowSize?: number;
  stepSize?: number;
}

export function windowedGaussianScores(values: readonly number[], options: WindowedGaussianOptions = {}): number[] {
  const windowSize = options.windowSize ?? 6400;
  const stepSize = options.stepSize ?? 100;
  let window: number[] = [];
  let buffer: number[] = [];
  let mean = 0;
  let std = 1;
  const update = (): void => {
    let sum = 0;
    for (const v of window) sum += v;
    mean = sum / window.length;
    let sq = 0;
    for (const v of window) sq += (v - mean) * (v - mean);
    std = Math.sqrt(sq / window.length);
    if (std === 0) std = 0.000001;
  };
  return values.map((value) => {
    const score = window.length > 0 ? 1 - normalTailProbability(value, mean, std) : 0;
    if (window.length < windowSize) {
      window.push(value);
      update();
    } else {
      buffer.push(value);
      if (buffer.length === stepSize) {
        window = window.slice(stepSize).concat(buffer);
        buffer = [];
        update();
      }
    }
    return score;
  });
}

/** NAB's normalProbability: the upper tail Q((x - mean) / std), mirrored below the mean. */
function normalTailProbability(x: number, mean: number, std: number): number {
  const xp = x < mean ? 2 * mean - x : x;
  const z = (xp - mean) / std;
  return 0.5 * erfc(z / Math.SQRT2);
}

/** erfc with W. J. Cody's rational approximations (relative error below 1e-15 in double). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.5) return 1 - erfSmall(x);
  if (x < 4) {
    const p = [
      5.64188496988670089e-1, 8.88314979438837594, 6.61191906371416295e1, 2.98635138197400131e2, 8.8195222124176909e2,
      1.71204761263407058e3, 2.05107837782607147e3, 1.23033935479799725e3, 2.15311535474403846e-8,
    ];
    const q = [
      1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2, 1.62138957456669019e3, 3.29079923573345963e3,
      4.3626190901432471e3, 3.43936767414372164e3, 1.23033935480374942e3,
    ];
    let num = p[8] * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + p[i]) * x;
      den = (den + q[i]) * x;
    }
    const r = (num + p[7]) / (den + q[7]);
    return expSquared(x) * r;
  }
  if (x > 27) return 0;
  const p = [
    3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
    6.58749161529837803e-4, 1.63153871373020978e-2,
  ];
  const q = [
    2.56852019228982242, 1.87295284992346725, 5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3,
  ];
  const z = 1 / (x * x);
  let num = p[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + p[i]) * z;
    den = (den + q[i]) * z;
  }
  let r = (z * (num + p[4])) / (den + q[4]);
  r = (1 / Math.sqrt(Math.PI) - r) / x;
  return expSquared(x) * r;
}

function erfSmall(x: number): number {
  const a = [
    3.1611237438705656, 1.13864154151050156e2, 3.77485237685302021e2, 3.20937758913846947e3, 1.85777706184603153e-1,
  ];
  const b = [2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3, 2.84423683343917062e3];
  const y = x * x;
  let num = a[4] * y;
  let den = y;
  for (let i = 0; i < 3; i++) {
    num = (num + a[i]) * y;
    den = (den + b[i]) * y;
  }
  return (x * (num + a[3])) / (den + b[3]);
}

/** exp(-x²) computed as Cody does, splitting x to keep the precision of the product. */
function expSquared(x: number): number {
  const xs = Math.trunc(x * 16) / 16;
  const del = (x - xs) * (x + xs);
  return Math.exp(-xs * xs) * Math.exp(-del);
}
