import { TrafficGenerator, trafficRhythm } from '@trailsight/simulator';
import { type AccountRegion, MINUTE_MS } from '@trailsight/domain';
import { SeededRandom } from './seeded-random.js';

/** One API of the simulated account, with the error behaviour the generator gives it. */
export interface ApiProfile {
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  /** Calls per minute at the busiest minute (weekday 15:00 UTC). */
  peakRate: number;
  /** Share of calls that fail. */
  errorShare: number;
  /** Error codes with their share of the failures (sums to 1 when errorShare > 0). */
  codes: Array<{ code: string; share: number }>;
}

export interface SyntheticAccountOptions {
  seed: number;
  /** Calls per minute at the busiest time (TrafficGenerator's eventsPerMinute). */
  eventsPerMinute: number;
  /** APIs in use (TrafficGenerator's apiCount). */
  apiCount: number;
  /** Epoch ms of the first minute; days are whole UTC days. */
  start: number;
  minutes: number;
  /** Generated events sampled to learn each API's error share and codes. */
  errorSampleEvents: number;
}

/**
 * The simulated account as per-minute counts: TrafficGenerator's model (Zipf popularity, daily and
 * weekly rhythm) gives each API's expected calls per minute; counts are Poisson around it, and
 * failures are a thinning of the calls with the error share and codes measured on the generator's
 * own records. Counting the generator's full events would give the same distributions at ~100x
 * the cost.
 */
export class SyntheticAccount {
  readonly source: AccountRegion = { accountId: '123456789012', region: 'us-east-1' };
  readonly apis: ApiProfile[];
  /** trafficRhythm at each minute of the run (1 = busiest). */
  readonly rhythm: Float64Array;

  constructor(readonly options: SyntheticAccountOptions) {
    const generator = new TrafficGenerator({
      seed: options.seed,
      accounts: [this.source.accountId],
      regions: [this.source.region],
      eventsPerMinute: options.eventsPerMinute,
      apiCount: options.apiCount,
    });
    this.rhythm = new Float64Array(options.minutes);
    for (let i = 0; i < options.minutes; i++) this.rhythm[i] = trafficRhythm(options.start + i * MINUTE_MS);
    // The busiest minute of a weekday: rate = peakRate × rhythm.
    const peak = Date.UTC(2025, 0, 8, 15);
    const errors = sampleErrors(options, this.source);
    this.apis = generator.apis().map((api) => {
      const peakRate = generator.expectedCalls(this.source, api.eventSource, api.eventName, peak) / trafficRhythm(peak);
      const seen = errors.get(`${api.eventSource}|${api.eventName}`);
      const failed = seen ? [...seen.codes.values()].reduce((a, b) => a + b, 0) : 0;
      return {
        ...api,
        peakRate,
        errorShare: seen && seen.calls > 0 ? failed / seen.calls : 0,
        codes: seen && failed > 0 ? [...seen.codes].map(([code, n]) => ({ code, share: n / failed })) : [],
      };
    });
  }

  /** Expected calls of one API at minute index i. */
  rate(api: ApiProfile, i: number): number {
    return api.peakRate * this.rhythm[i];
  }

  /** Benign calls and failures of one API over the run, from its own random stream. */
  benign(api: ApiProfile): { calls: Uint32Array; rng: SeededRandom } {
    const rng = SeededRandom.named(this.options.seed, `api/${api.eventSource}/${api.eventName}`);
    const calls = new Uint32Array(this.options.minutes);
    for (let i = 0; i < calls.length; i++) calls[i] = rng.poisson(api.peakRate * this.rhythm[i]);
    return { calls, rng };
  }

  /** Splits calls into failures by code (binomial thinning, then a categorical pick per failure). */
  thin(api: ApiProfile, calls: Uint32Array, rng: SeededRandom): Map<string, Uint32Array> {
    const out = new Map<string, Uint32Array>(api.codes.map((c) => [c.code, new Uint32Array(calls.length)]));
    if (api.errorShare <= 0 || api.codes.length === 0) return out;
    const arrays = api.codes.map((c) => out.get(c.code)!);
    for (let i = 0; i < calls.length; i++) {
      for (let k = calls[i]; k > 0; k--) {
        if (rng.float() >= api.errorShare) continue;
        let x = rng.float();
        let j = 0;
        while (j < api.codes.length - 1 && x >= api.codes[j].share) x -= api.codes[j++].share;
        arrays[j][i] += 1;
      }
    }
    return out;
  }
}

interface ErrorCounts {
  calls: number;
  codes: Map<string, number>;
}

/** Counts calls and failures per API over generated weekday-peak minutes of the same model. */
function sampleErrors(options: SyntheticAccountOptions, source: AccountRegion): Map<string, ErrorCounts> {
  const perMinute = 50_000;
  const generator = new TrafficGenerator({
    seed: options.seed,
    accounts: [source.accountId],
    regions: [source.region],
    eventsPerMinute: perMinute,
    apiCount: options.apiCount,
    cacheEvents: 1,
  });
  const out = new Map<string, ErrorCounts>();
  const minutes = Math.max(1, Math.ceil(options.errorSampleEvents / perMinute));
  const first = Date.UTC(2025, 0, 8, 15);
  for (let m = 0; m < minutes; m++) {
    for (const r of generator.eventsForMinute(source, first + m * MINUTE_MS)) {
      const key = `${r.eventSource}|${r.eventName}`;
      let counts = out.get(key);
      if (!counts) out.set(key, (counts = { calls: 0, codes: new Map() }));
      counts.calls++;
      if (r.errorCode) counts.codes.set(r.errorCode, (counts.codes.get(r.errorCode) ?? 0) + 1);
    }
  }
  return out;
}
