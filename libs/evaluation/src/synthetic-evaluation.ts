import { callSeriesField, errorSeriesField, MINUTE_MS, parseSeriesField } from '@trailsight/domain';
import { createSeriesState, DEFAULT_TUNING, type DetectorTuning, observeMinute } from '@trailsight/detection';
import type { LabelledAnomaly, ObservedInsight } from './insight-matching.js';
import { SeededRandom } from './seeded-random.js';
import type { Detonation } from './stratus-bursts.js';
import { SyntheticAccount, type ApiProfile } from './synthetic-account.js';

const DAY_MINUTES = 1440;

export interface SyntheticEvaluationOptions {
  seed: number;
  /** Whole days simulated; the first `baselineDays` are history only. */
  days: number;
  baselineDays: number;
  /** Epoch ms of the first minute (a UTC midnight). */
  start: number;
  eventsPerMinute: number;
  apiCount: number;
  errorSampleEvents: number;
  slackMinutes: number;
  tuning?: DetectorTuning;
}

/** How an anomaly changes counts; applied to the API's series in this order: spike, drop, thinning, errors, stratus. */
type Injection =
  | { kind: 'spike'; api: string; from: number; to: number; factor: number; rngName: string }
  | { kind: 'drop'; api: string; from: number; to: number }
  | { kind: 'errors'; api: string; code: string; from: number; to: number; factor: number; rngName: string }
  | { kind: 'stratus'; series: string; counts: ReadonlyMap<number, number> };

export interface PlannedAnomalies {
  anomalies: LabelledAnomaly[];
  injections: Injection[];
  detonations: Array<{ name: string; start: number; anomalyIds: string[]; events: number }>;
}

/** What running the detector over one anomaly's series looked like (for diagnosing misses). */
interface AnomalyTrace {
  expectedAtStart: number;
  values: number[];
  maxAbsScore: number;
  /** An insight on the series was already open when the anomaly began (so no new Start). */
  openAtStart: boolean;
  upperAtStart: number;
  lowerAtStart: number;
}

export interface SyntheticRun {
  planned: PlannedAnomalies;
  insights: ObservedInsight[];
  /** Starts emitted before the scored period (after the first day), for context. */
  baselineInsights: ObservedInsight[];
  traces: Map<string, AnomalyTrace>;
  series: number;
  callSeries: number;
  errorSeries: number;
  apis: number;
  writeApis: number;
  benignSeriesDays: number;
  scoredFrom: number;
  scoredUntil: number;
  meanEventsPerMinute: number;
  peakEventsPerMinute: number;
  observations: number;
}

const apiKey = (api: { eventSource: string; eventName: string }) => `${api.eventSource}|${api.eventName}`;

const SPIKE_FACTORS = [2, 3, 5, 10, 20, 50];
const SPIKE_DURATIONS = [1, 2, 3, 5, 10, 30, 60];
const SPIKE_REPEATS = 3;
const DROP_DURATIONS = [5, 10, 30, 60];
const DROP_REPEATS = 6;
const DROP_MIN_RATE = 5;
const ERROR_FACTORS = [5, 10, 20, 50];
const ERROR_DURATIONS = [1, 3, 10, 30];
const ERROR_REPEATS = 2;
/** Sustained moderate rises (recall_sustained): factor × max(expected, 1), on APIs expected at >= 0.5/min throughout. */
const SUSTAINED_FACTORS = [2, 2.5, 3, 3.5, 4];
const SUSTAINED_DURATIONS = [10, 15, 20, 30];
const SUSTAINED_REPEATS = 3;
const SUSTAINED_MIN_RATE = 0.5;
/** Anomalies on one API stay this far apart, so a recovery never overlaps the next one. */
const API_GAP_MINUTES = 360;
/** The volume floor for a rate anomaly: a burst below 3 events in its busiest minute is not one. */
const STRATUS_RATE_FLOOR = 3;

function durationBucket(minutes: number): string {
  if (minutes <= 2) return '1-2min';
  if (minutes <= 10) return '3-10min';
  return '30-60min';
}

/**
 * Labelled anomalies in the scored period: spikes on write APIs' call rates (2x-50x of
 * max(expected, 1), 1-60 min, over every popularity), drops to zero of write APIs expected at >= 5/min
 * throughout, error bursts (existing codes and a new AccessDenied), each Stratus detonation
 * shifted in at its own time, and sustained rises (2x-4x of max(expected, 1), 10-30 min) on write
 * APIs expected at >= 0.5/min throughout. The sustained rises are placed last, from their own
 * random stream, so every other anomaly is where it was before they existed.
 */
export function planAnomalies(
  account: SyntheticAccount,
  detonations: readonly Detonation[],
  options: SyntheticEvaluationOptions,
): PlannedAnomalies {
  const rng = SeededRandom.named(options.seed, 'plan');
  const first = options.baselineDays * DAY_MINUTES + 30;
  const last = options.days * DAY_MINUTES - 90;
  const at = (i: number) => options.start + i * MINUTE_MS;
  const busy = new Map<string, Array<[number, number]>>();
  const free = (api: string, from: number, to: number) =>
    (busy.get(api) ?? []).every(([a, b]) => to + API_GAP_MINUTES < a || from > b + API_GAP_MINUTES);
  const reserve = (api: string, from: number, to: number) => {
    const list = busy.get(api) ?? [];
    list.push([from, to]);
    busy.set(api, list);
  };
  const writes = account.apis.filter((a) => !a.readOnly);
  const anomalies: LabelledAnomaly[] = [];
  const injections: Injection[] = [];
  const seriesOfApi = (api: ApiProfile, extra: string[] = []) => [
    ...(api.readOnly ? [] : [callSeriesField(api.eventSource, api.eventName)]),
    ...api.codes.map((c) => errorSeriesField(api.eventSource, api.eventName, c.code)),
    ...extra,
  ];

  const place = (duration: number, pickApi: (from: number, to: number) => ApiProfile | undefined) => {
    for (let attempt = 0; attempt < 500; attempt++) {
      const from = first + rng.int(last - first - duration);
      const to = from + duration - 1;
      const api = pickApi(from, to);
      if (api && free(apiKey(api), from, to)) {
        reserve(apiKey(api), from, to);
        return { api, from, to };
      }
    }
    return undefined;
  };

  let n = 0;
  for (const factor of SPIKE_FACTORS) {
    for (const duration of SPIKE_DURATIONS) {
      for (let r = 0; r < SPIKE_REPEATS; r++) {
        const slot = place(duration, () => rng.pick(writes));
        if (!slot) continue;
        const { api, from, to } = slot;
        const id = `spike-${n++}`;
        const series = callSeriesField(api.eventSource, api.eventName);
        injections.push({ kind: 'spike', api: apiKey(api), from, to, factor, rngName: id });
        anomalies.push({
          id,
          category: 'spike',
          series,
          affected: seriesOfApi(api),
          start: at(from),
          end: at(to),
          durationMinutes: duration,
          factor,
          inRecall: factor >= 5 && duration >= 3,
          bucket: `spike x${factor} ${durationBucket(duration)}`,
          detail: `${api.eventName} expected ${account.rate(api, from).toFixed(3)}/min`,
        });
      }
    }
  }

  for (const duration of DROP_DURATIONS) {
    for (let r = 0; r < DROP_REPEATS; r++) {
      const slot = place(duration, (from, to) => {
        const candidates = writes.filter(
          (a) => Math.min(account.rate(a, from), account.rate(a, to)) >= DROP_MIN_RATE && free(apiKey(a), from, to),
        );
        return candidates.length > 0 ? rng.pick(candidates) : undefined;
      });
      if (!slot) continue;
      const { api, from, to } = slot;
      const id = `drop-${n++}`;
      injections.push({ kind: 'drop', api: apiKey(api), from, to });
      anomalies.push({
        id,
        category: 'drop',
        series: callSeriesField(api.eventSource, api.eventName),
        affected: seriesOfApi(api),
        start: at(from),
        end: at(to),
        durationMinutes: duration,
        inRecall: true,
        bucket: `drop ${duration}min`,
        detail: `${api.eventName} expected ${account.rate(api, from).toFixed(1)}/min`,
      });
    }
  }

  const failing = account.apis.filter((a) => a.codes.length > 0);
  for (const factor of ERROR_FACTORS) {
    for (const duration of ERROR_DURATIONS) {
      // Existing codes, and one code the API never returned (AWS's "fewer than one a week" case).
      for (const newCode of [...Array.from({ length: ERROR_REPEATS }, () => false), true]) {
        const slot = place(duration, () => (newCode ? rng.pick(account.apis) : rng.pick(failing)));
        if (!slot) continue;
        const { api, from, to } = slot;
        const code = newCode
          ? api.codes.some((c) => c.code === 'AccessDenied')
            ? 'AccessDeniedException'
            : 'AccessDenied'
          : rng.pick(api.codes).code;
        const id = `errors-${n++}`;
        const series = errorSeriesField(api.eventSource, api.eventName, code);
        const share = api.codes.find((c) => c.code === code)?.share ?? 0;
        injections.push({ kind: 'errors', api: apiKey(api), code, from, to, factor, rngName: id });
        anomalies.push({
          id,
          category: 'errors',
          series,
          affected: seriesOfApi(api, [series]),
          start: at(from),
          end: at(to),
          durationMinutes: duration,
          factor,
          inRecall: duration >= 3,
          bucket: `errors x${factor} ${duration >= 3 ? '3-30min' : '1min'}`,
          detail: `${api.eventName} ${code}${newCode ? ' (new code)' : ''} expected ${(account.rate(api, from) * api.errorShare * share).toFixed(4)}/min`,
        });
      }
    }
  }

  const placedDetonations: PlannedAnomalies['detonations'] = [];
  const spacing = Math.floor((last - first) / Math.max(1, detonations.length));
  detonations.forEach((d, k) => {
    // Spread over the scored period, at an odd minute offset so no two share a minute of the hour.
    const from = first + k * spacing + ((k * 37) % 60);
    const ids: string[] = [];
    for (const [series, counts] of d.series) {
      const offsets = [...counts.keys()];
      const a = Math.min(...offsets);
      const b = Math.max(...offsets);
      const peak = Math.max(...counts.values());
      const id = `stratus-${n++}`;
      ids.push(id);
      injections.push({
        kind: 'stratus',
        series,
        counts: new Map([...counts].map(([o, c]) => [from + o, c])),
      });
      anomalies.push({
        id,
        category: 'stratus',
        series,
        affected: [series],
        start: at(from + a),
        end: at(from + b),
        durationMinutes: b - a + 1,
        inRecall: peak >= STRATUS_RATE_FLOOR,
        bucket: peak >= STRATUS_RATE_FLOOR ? 'stratus >=3/min' : 'stratus <3/min',
        detail: `${d.name}: ${series} peak ${peak}/min`,
      });
    }
    placedDetonations.push({ name: d.name, start: at(from), anomalyIds: ids, events: d.events });
  });

  const sustainedRng = SeededRandom.named(options.seed, 'plan/sustained');
  for (const factor of SUSTAINED_FACTORS) {
    for (const duration of SUSTAINED_DURATIONS) {
      for (let r = 0; r < SUSTAINED_REPEATS; r++) {
        let slot: { api: ApiProfile; from: number; to: number } | undefined;
        for (let attempt = 0; attempt < 500 && !slot; attempt++) {
          const from = first + sustainedRng.int(last - first - duration);
          const to = from + duration - 1;
          const candidates = writes.filter(
            (a) =>
              Math.min(account.rate(a, from), account.rate(a, to)) >= SUSTAINED_MIN_RATE && free(apiKey(a), from, to),
          );
          if (candidates.length > 0) slot = { api: sustainedRng.pick(candidates), from, to };
        }
        if (!slot) continue;
        const { api, from, to } = slot;
        reserve(apiKey(api), from, to);
        const id = `sustained-${n++}`;
        injections.push({ kind: 'spike', api: apiKey(api), from, to, factor, rngName: id });
        anomalies.push({
          id,
          category: 'sustained',
          series: callSeriesField(api.eventSource, api.eventName),
          affected: seriesOfApi(api),
          start: at(from),
          end: at(to),
          durationMinutes: duration,
          factor,
          inRecall: false,
          bucket: `sustained x${factor} ${duration}min`,
          detail: `${api.eventName} expected ${account.rate(api, from).toFixed(2)}/min`,
        });
      }
    }
  }

  return { anomalies, injections, detonations: placedDetonations };
}

/** Per-API count arrays: the call series and one error series per code. */
interface ApiCounts {
  calls: Uint32Array;
  errors: Map<string, Uint32Array>;
  readOnly: boolean;
}

function buildCounts(
  account: SyntheticAccount,
  api: ApiProfile,
  injections: readonly Injection[],
  seed: number,
): ApiCounts {
  const key = apiKey(api);
  const mine = injections.filter((j) => j.kind !== 'stratus' && j.api === key);
  const { calls, rng } = account.benign(api);
  for (const j of mine) {
    if (j.kind !== 'spike') continue;
    const spikeRng = SeededRandom.named(seed, j.rngName);
    for (let i = j.from; i <= j.to; i++) {
      calls[i] = Math.max(calls[i], spikeRng.poisson(j.factor * Math.max(account.rate(api, i), 1)));
    }
  }
  for (const j of mine) if (j.kind === 'drop') calls.fill(0, j.from, j.to + 1);
  const errors = account.thin(api, calls, rng);
  for (const j of mine) {
    if (j.kind !== 'errors') continue;
    const burstRng = SeededRandom.named(seed, j.rngName);
    const share = api.codes.find((c) => c.code === j.code)?.share ?? 0;
    let series = errors.get(j.code);
    if (!series) errors.set(j.code, (series = new Uint32Array(calls.length)));
    for (let i = j.from; i <= j.to; i++) {
      const extra = burstRng.poisson(j.factor * Math.max(account.rate(api, i) * api.errorShare * share, 1));
      series[i] += extra;
      calls[i] += extra; // failed calls are calls
    }
  }
  return { calls, errors, readOnly: api.readOnly };
}

/**
 * Runs the detector over every series exactly as SourceEvaluator does: a series exists from the
 * first minute it has a count, starts with createSeriesState({ since: historyStart }), and is then
 * observed every minute (zeros included) with DEFAULT_TUNING. Series are independent, so they are
 * run one after another rather than interleaved minute by minute; the verdicts are identical.
 */
export function runSynthetic(
  account: SyntheticAccount,
  planned: PlannedAnomalies,
  options: SyntheticEvaluationOptions,
  progress: (message: string) => void = () => {},
): SyntheticRun {
  const tuning = options.tuning ?? DEFAULT_TUNING;
  const minutes = options.days * DAY_MINUTES;
  const scoredFromIndex = options.baselineDays * DAY_MINUTES;
  const historyStart = options.start;

  const series = new Map<string, Uint32Array>();
  const total = new Float64Array(minutes);
  const writeApis = account.apis.filter((a) => !a.readOnly).length;
  for (const api of account.apis) {
    const counts = buildCounts(account, api, planned.injections, options.seed);
    for (let i = 0; i < minutes; i++) total[i] += counts.calls[i];
    if (!counts.readOnly) series.set(callSeriesField(api.eventSource, api.eventName), counts.calls);
    for (const [code, values] of counts.errors)
      series.set(errorSeriesField(api.eventSource, api.eventName, code), values);
  }
  for (const j of planned.injections) {
    if (j.kind !== 'stratus') continue;
    let values = series.get(j.series);
    if (!values) series.set(j.series, (values = new Uint32Array(minutes)));
    for (const [i, c] of j.counts) {
      values[i] += c;
      total[i] += c;
    }
  }
  progress(`generated ${series.size} series over ${minutes} minutes`);

  const anomaliesBySeries = new Map<string, LabelledAnomaly[]>();
  for (const a of planned.anomalies) {
    const list = anomaliesBySeries.get(a.series) ?? [];
    list.push(a);
    anomaliesBySeries.set(a.series, list);
  }
  const affectedWindows = new Map<string, Array<[number, number]>>();
  for (const a of planned.anomalies) {
    for (const s of new Set([a.series, ...a.affected])) {
      const list = affectedWindows.get(s) ?? [];
      list.push([(a.start - options.start) / MINUTE_MS, (a.end - options.start) / MINUTE_MS + options.slackMinutes]);
      affectedWindows.set(s, list);
    }
  }

  const insights: ObservedInsight[] = [];
  const baselineInsights: ObservedInsight[] = [];
  const traces = new Map<string, AnomalyTrace>();
  let benignMinutes = 0;
  let observations = 0;
  let callSeries = 0;
  let errorSeries = 0;
  let done = 0;
  for (const [key, values] of series) {
    const firstSeen = values.findIndex((v) => v > 0);
    if (++done % 500 === 0) progress(`detector: ${done}/${series.size} series`);
    if (firstSeen < 0) continue;
    if (parseSeriesField(key)?.insightType === 'ApiCallRateInsight') callSeries++;
    else errorSeries++;
    const state = createSeriesState({ since: historyStart });
    const mine = anomaliesBySeries.get(key) ?? [];
    for (const a of mine) {
      traces.set(a.id, {
        expectedAtStart: NaN,
        values: [],
        maxAbsScore: 0,
        openAtStart: false,
        upperAtStart: NaN,
        lowerAtStart: NaN,
      });
    }
    for (let i = firstSeen; i < minutes; i++) {
      const minute = options.start + i * MINUTE_MS;
      const verdict = observeMinute(state, minute, values[i], tuning);
      observations++;
      if (verdict.transition === 'start' && verdict.insight) {
        const insight: ObservedInsight = {
          series: key,
          startMinute: verdict.insight.startMinute,
          emittedMinute: minute,
          direction: verdict.insight.direction,
        };
        if (insight.startMinute >= options.start + scoredFromIndex * MINUTE_MS) insights.push(insight);
        else if (i >= DAY_MINUTES) baselineInsights.push(insight);
      }
      for (const a of mine) {
        if (minute < a.start || minute > a.end + options.slackMinutes * MINUTE_MS) continue;
        const trace = traces.get(a.id)!;
        if (minute === a.start) {
          trace.expectedAtStart = verdict.expected;
          trace.openAtStart = verdict.insight !== null && verdict.transition !== 'start';
          trace.upperAtStart = verdict.upper;
          trace.lowerAtStart = verdict.lower;
        }
        if (minute <= a.end && trace.values.length < 12) trace.values.push(values[i]);
        trace.maxAbsScore = Math.max(trace.maxAbsScore, Math.abs(verdict.score));
      }
    }
    const scoredFirst = Math.max(firstSeen, scoredFromIndex);
    let excluded = 0;
    for (const [a, b] of affectedWindows.get(key) ?? []) {
      excluded += Math.max(0, Math.min(b, minutes - 1) - Math.max(a, scoredFirst) + 1);
    }
    benignMinutes += Math.max(0, minutes - scoredFirst - excluded);
  }

  let peak = 0;
  let sum = 0;
  for (let i = 0; i < minutes; i++) {
    peak = Math.max(peak, total[i]);
    sum += total[i];
  }
  return {
    planned,
    insights,
    baselineInsights,
    traces,
    series: callSeries + errorSeries,
    callSeries,
    errorSeries,
    apis: account.apis.length,
    writeApis,
    benignSeriesDays: benignMinutes / DAY_MINUTES,
    scoredFrom: options.start + scoredFromIndex * MINUTE_MS,
    scoredUntil: options.start + minutes * MINUTE_MS,
    meanEventsPerMinute: sum / minutes,
    peakEventsPerMinute: peak,
    observations,
  };
}
