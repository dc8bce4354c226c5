/**
 * Small deterministic randomness for the simulator: a seeded PRNG (sfc32), string hashing,
 * Poisson counts, O(1) weighted picks (Vose's alias method) and UUID-format ids. Everything
 * derives from explicit seeds, so the same inputs always give the same traffic.
 */

/** 32-bit FNV-1a of a string, finished with murmur3's mixer so nearby strings spread out. */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** murmur3 fmix32: a bijective scramble of 32 bits. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's small fast counting generator): fast, 128-bit state, good quality. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  /** Two 32-bit words of seed, e.g. a source hash and a minute index. */
  constructor(seedA: number, seedB = 0) {
    this.a = mix32(seedA ^ 0x9e3779b9);
    this.b = mix32(seedB ^ 0x7f4a7c15);
    this.c = mix32(seedA + seedB + 0x6a09e667);
    // Warm up so weak seeds (0, 1, 2...) do not start out correlated.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform unsigned 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A standard normal draw (Box-Muller). */
  gaussian(): number {
    const u = 1 - this.float(); // (0, 1]: log() stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** A Poisson count with mean lambda: exact below 30, a rounded normal above (close enough for traffic). */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.float();
      while (p > limit) {
        k++;
        p *= this.float();
      }
      return k;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.gaussian()));
  }

  /** A UUID-format string (version 4 layout) made of this generator's output. */
  uuid(): string {
    const words = UUID_WORDS;
    words[0] = this.next();
    words[1] = (this.next() & 0xffff0fff) | 0x4000;
    words[2] = (this.next() & 0x3fffffff) | 0x80000000;
    words[3] = this.next();
    for (let i = 0; i < 32; i++) UUID_CODES[UUID_DIGITS[i]] = HEX_CODES[(words[i >> 3] >>> (28 - 4 * (i & 7))) & 15]!;
    // One flat string from char codes: a template literal would leave a rope of ten pieces per id.
    return String.fromCharCode.apply(null, UUID_CODES);
  }

  /** `length` characters of upper-case base 32-ish text, as in access key ids. */
  token(length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Where the 32 hex digits go in xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx. */
const UUID_DIGITS = Array.from({ length: 36 }, (_, i) => i).filter((i) => ![8, 13, 18, 23].includes(i));
const UUID_CODES: number[] = Array.from({ length: 36 }, (_, i) => ([8, 13, 18, 23].includes(i) ? 45 : 48));
const UUID_WORDS = new Uint32Array(4);

/** Vose's alias table: picks index i with probability weights[i] / sum(weights) in O(1). */
export class AliasTable {
  private readonly probability: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += Math.max(0, weights[i]);
    if (n === 0 || total <= 0) throw new RangeError('AliasTable needs at least one positive weight');
    this.probability = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = Array.from({ length: n }, (_, i) => (Math.max(0, weights[i]) * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large[large.length - 1];
      this.probability[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) small.push(large.pop()!);
    }
    // What is left is 1 up to rounding.
    for (const i of [...small, ...large]) this.probability[i] = 1;
  }

  pick(rng: Rng): number {
    const n = this.probability.length;
    const x = rng.float() * n;
    const i = Math.floor(x);
    return x - i < this.probability[i] ? i : this.alias[i];
  }
}

/** Weights 1/(rank+1)^s: the long-tailed popularity real API traffic shows. */
export function zipfWeights(n: number, exponent: number): Float64Array {
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) weights[i] = 1 / Math.pow(i + 1, exponent);
  return weights;
}

/** Fisher-Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
