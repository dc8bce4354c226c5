import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Redis } from 'ioredis';
import { mean, median, medianAbsoluteDeviation, quantileSorted, standardDeviation } from 'simple-statistics';
import { trafficRhythm } from '@trailsight/simulator';
import {
  DEFAULT_TUNING,
  SERIES_STATE_BYTES,
  createSeriesState,
  decodeSeriesState,
  encodeSeriesState,
  observeMinute,
  type SeriesState,
} from '@trailsight/detection';
import { startRedis } from '../test/support/redis-server.js';
import { printHeadline, progress, round } from './bench-support.js';
import { MINUTE_MS } from '@trailsight/domain';

/**
 * npm run bench:detect — the detector core's cost per evaluated minute for 10,000 active series
 * with a full 7-day history, decode + observe + encode included (as the evaluator does with
 * state read from Redis), against recomputing the usual statistics (mean, SD, median, MAD, p99)
 * over each series' 10,080 raw minutes with simple-statistics, measured in the same run.
 */
const SERIES = Number(process.env.BENCH_DETECT_SERIES ?? 10_000);
const TEMPLATES = 100;
const WEEK = 10_080;
const MINUTES_MEASURED = 5;
const RECOMPUTE_SAMPLE = 200;
// Monday 2026-03-02 00:00 UTC.
const START = Date.UTC(2026, 2, 2);
const NOW = START + WEEK * MINUTE_MS;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(random: () => number, lambda: number): number {
  if (lambda > 50)
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * (random() + random() + random() - 1.5) * 2));
  const limit = Math.exp(-lambda);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}

/** Zipf-like volumes from 200/min down to a call every few hours, with the simulator's rhythm. */
const peakOf = (series: number) => 200 / (1 + (series % TEMPLATES)) ** 1.3;
const valueAt = (random: () => number, series: number, t: number) => poisson(random, peakOf(series) * trafficRhythm(t));

// 1. Realistic 7-day states: TEMPLATES series observed minute by minute for a week, then each of
//    the 10,000 series starts from a copy of its template's bytes (what Redis would hold).
let started = performance.now();
const templates: Buffer[] = [];
const histories: Float64Array[] = [];
for (let k = 0; k < TEMPLATES; k++) {
  const random = seeded(k + 1);
  const state = createSeriesState();
  const history = new Float64Array(WEEK);
  for (let i = 0; i < WEEK; i++) {
    history[i] = valueAt(random, k, START + i * MINUTE_MS);
    observeMinute(state, START + i * MINUTE_MS, history[i], DEFAULT_TUNING);
  }
  templates.push(Buffer.from(encodeSeriesState(state)));
  histories.push(history);
}
const stored: Buffer[] = Array.from({ length: SERIES }, (_, i) => Buffer.from(templates[i % TEMPLATES]));
progress(
  `${TEMPLATES} templates trained on ${WEEK} minutes each, ${SERIES} states in ${round(performance.now() - started)} ms`,
);

// 2. One new minute for every series: decode, observe, encode, and copy the bytes out (Redis
//    hands back a fresh Buffer next time). Median of several minutes, in wall time and in the
//    process's CPU time (every thread, GC included): on a shared machine the wall figure also
//    holds the time spent waiting for a core.
const random = seeded(99);
const timings: number[] = [];
const cpuTimings: number[] = [];
let insights = 0;
for (let m = 0; m < MINUTES_MEASURED; m++) {
  const minute = NOW + m * MINUTE_MS;
  const values = Array.from({ length: SERIES }, (_, i) => valueAt(random, i, minute));
  const cpuStarted = process.cpuUsage();
  started = performance.now();
  for (let i = 0; i < SERIES; i++) {
    const state = decodeSeriesState(stored[i]);
    const verdict = observeMinute(state, minute, values[i], DEFAULT_TUNING);
    if (verdict.transition === 'start') insights++;
    stored[i] = Buffer.from(encodeSeriesState(state));
  }
  timings.push(performance.now() - started);
  const cpu = process.cpuUsage(cpuStarted);
  cpuTimings.push((cpu.user + cpu.system) / 1000);
}
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const evaluateMs = medianOf(timings);
progress(`evaluate: ${timings.map((t) => round(t)).join(', ')} ms per minute (${insights} insights opened)`);
progress(`evaluate CPU: ${cpuTimings.map((t) => round(t)).join(', ')} ms per minute`);

// 3. Baseline: the statistics a naive detector recomputes over 10,080 raw minutes per series.
started = performance.now();
let checksum = 0;
for (let s = 0; s < RECOMPUTE_SAMPLE; s++) {
  const values = Array.from(histories[s % TEMPLATES]);
  const sorted = [...values].sort((a, b) => a - b);
  checksum += mean(values) + standardDeviation(values) + median(values) + medianAbsoluteDeviation(values);
  checksum += quantileSorted(sorted, 0.99);
}
const recomputeMs = ((performance.now() - started) / RECOMPUTE_SAMPLE) * SERIES;
progress(
  `recompute baseline: ${round(recomputeMs)} ms per minute, extrapolated from ${RECOMPUTE_SAMPLE} series (checksum ${round(checksum)})`,
);

// 4. Memory: decoded states held in process, and the same bytes in a throwaway redis-server.
gc();
const before = process.memoryUsage();
const held: SeriesState[] = stored.map((bytes) => decodeSeriesState(Buffer.from(bytes)));
gc();
const after = process.memoryUsage();
const processBytes = (after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers)) / held.length;

let redisBytes = SERIES_STATE_BYTES;
try {
  const redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    const sample = 200;
    for (let i = 0; i < sample; i++) await client.set(`bench:detect:${i}`, stored[i]);
    let total = 0;
    for (let i = 0; i < sample; i++) total += Number(await client.call('MEMORY', 'USAGE', `bench:detect:${i}`));
    redisBytes = total / sample;
  } finally {
    client.disconnect();
    await redis.stop();
  }
} catch (error) {
  progress(`no redis-server for MEMORY USAGE (${String(error)}); reporting the encoded size`);
}

printHeadline({
  series: SERIES,
  evaluate_ms_per_minute: round(evaluateMs),
  evaluate_cpu_ms_per_minute: round(medianOf(cpuTimings)),
  redis_bytes_per_series: Math.round(redisBytes),
  process_bytes_per_series: Math.round(processBytes),
  encoded_bytes_per_series: SERIES_STATE_BYTES,
  baseline_recompute_ms_per_minute: round(recomputeMs),
  speedup_vs_recompute: round(recomputeMs / evaluateMs, 1),
});
