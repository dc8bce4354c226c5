/**
 * Poisson deviance: the score the detector thresholds. For a count x against an expected mean mu,
 * d(x, mu) = 2 (x ln(x/mu) - x + mu), and sqrt(d) behaves like |z| of a normal variable, but it is
 * honest about small counts: by the Chernoff bound P(X >= x) <= exp(-d/2) for x > mu, and
 * P(X = 0) = exp(-d/2) exactly. So "0 -> 2 calls" never looks like 3 sigma, while
 * "0.01/min -> 50 calls" scores far past any threshold.
 */
export function poissonDeviance(x: number, mu: number): number {
  if (mu <= 0) return x > 0 ? Infinity : 0;
  if (x <= 0) return 2 * mu;
  return Math.max(0, 2 * (x * Math.log(x / mu) - x + mu));
}

/** Signed square root of the deviance: > 0 above mu, < 0 below. */
export function devianceScore(x: number, mu: number): number {
  const root = Math.sqrt(poissonDeviance(x, mu));
  return x >= mu ? root : -root;
}

/**
 * The count above mu whose deviance is exactly `target` (target = score²).
 * Newton on f(x) = x ln(x/mu) - x + mu - target/2, started to the right of the root: f is convex
 * and increasing there, so the iterates decrease monotonically onto the root.
 */
export function upperCountAt(mu: number, target: number): number {
  const half = target / 2;
  if (mu <= 0) return 0;
  let x = mu + Math.sqrt(2 * half * mu) + half + 1;
  while (x * Math.log(x / mu) - x + mu < half) x *= 2; // never taken in practice; keeps Newton on the right side
  for (let i = 0; i < 8; i++) {
    const f = x * Math.log(x / mu) - x + mu - half;
    const step = f / Math.log(x / mu);
    x -= step;
    if (step < 1e-6 * x) break;
  }
  return x;
}

/**
 * The count below mu whose deviance is exactly `target`, or 0 when even zero calls is not that
 * unusual (2 mu <= target). Newton from the left of the root, where f is positive and decreasing.
 */
export function lowerCountAt(mu: number, target: number): number {
  const half = target / 2;
  if (mu <= half) return 0;
  let x = Math.max(mu * 1e-9, mu - Math.sqrt(2 * half * mu));
  for (let i = 0; i < 12; i++) {
    const f = x * Math.log(x / mu) - x + mu - half;
    const step = f / Math.log(x / mu);
    x -= step;
    if (-step < 1e-6 * mu) break;
  }
  return Math.min(mu, Math.max(0, x));
}
