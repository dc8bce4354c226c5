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

/**
 * P(X >= x) for X ~ Poisson(mu), exact, with x and mu scaled by the overdispersion phi
 * (quasi-Poisson: the deviance divided by phi is the deviance of x/phi against mu/phi), so
 * tail(x, mu, phi) = P(a = x/phi, mu/phi), the regularized lower incomplete gamma function, which
 * for phi = 1 and an integer x is the Poisson upper tail. For x <= mu it is 1 (nothing to test).
 *
 * Why: sqrt(deviance) is a good z only for moderate counts. A few calls against a small
 * expectation score higher than their tail probability warrants (6 calls at 0.24/min scores 5.20
 * while P(X >= 6) = 2.5e-7 is z = 5.03; 3 at 0.012 scores 5.14 for z = 4.99), and the sparse
 * series, most series, are where such counts happen.
 */
export function poissonUpperTail(x: number, mu: number, phi = 1): number {
  if (!(x > mu)) return 1;
  if (mu <= 0) return 0;
  const a = x / phi;
  const z = mu / phi;
  // Series for P(a, z), which converges quickly for z < a + 1 (here z < a).
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < 1000; n++) {
    term *= z / (a + n);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return Math.min(1, Math.exp(-z + a * Math.log(z) - logGamma(a)) * sum);
}

/** ln Γ(a) for a > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
function logGamma(a: number): number {
  if (a < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * a)) - logGamma(1 - a);
  const x = a - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** P(Z >= z) for a standard normal Z (erfc by Numerical Recipes' Chebyshev fit: relative error < 1.2e-7). */
export function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const erfc =
    t *
    Math.exp(
      -ax * ax -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return (x >= 0 ? erfc : 2 - erfc) / 2;
}
