import { DAY_MS } from '@trailsight/domain';
/**
 * Seeded synthetic per-minute counts for the detector's tests and benchmark: Poisson noise around
 * a daily rhythm (peak 15:00 UTC, trough 03:00 at 15%) and weekends at 35%, the simulator's shape.
 */

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson count: Knuth's product method for small means, a rounded normal above 50. */
export function poisson(random: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) {
    const u = Math.max(random(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  let product = random();
  while (product > limit) {
    k++;
    product *= random();
  }
  return k;
}

/** The simulator's rhythm: 1 at weekday 15:00 UTC, 0.15 at 03:00, weekends × 0.35. */
export function rhythm(epochMs: number, weekly = true): number {
  const hour = (((epochMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  const daily = 0.15 + 0.85 * ((1 + Math.cos((2 * Math.PI * (hour - 15)) / 24)) / 2) ** 2;
  const weekday = (Math.floor(epochMs / DAY_MS) + 4) % 7;
  return weekly && (weekday === 0 || weekday === 6) ? daily * 0.35 : daily;
}

/** Monday 2026-03-02 00:00 UTC. */
export const MONDAY = Date.UTC(2026, 2, 2);
