/**
 * What a deployment needs for a workload, from measured unit costs (bench:scale, bench:ingest,
 * bench:detect) and the settings that multiply them. Pure arithmetic: no I/O, so the README's
 * table and bench:scale's figures come from the same function.
 */

/** Unit costs, each measured by a benchmark (the README says which). */
export interface MeasuredCosts {
  /** Events counted per second per detector CPU core (bench:scale: queue, detector, counting script). */
  detectorEventsPerCoreSecond: number;
  /** Redis CPU of the primaries per counted event, µs: enqueue and counting (bench:scale). */
  redisCpuUsPerEvent: number;
  /** Redis commands per counted event, those inside scripts included (bench:scale). */
  redisCommandsPerEvent: number;
  /** Bytes of one counted event id in its minute's dedupe set (bench:scale, MEMORY USAGE). */
  seenBytesPerEvent: number;
  /** Bytes of one counter field of a minute hash (bench:scale, MEMORY USAGE). */
  bytesPerCounterField: number;
  /** Poller CPU seconds per LookupEvents page of 50 events (bench:ingest's fleet: cores / pages per second). */
  pollerCpuSecondsPerPage: number;
  /** Evaluator CPU µs per series and evaluated minute (bench:detect). */
  evaluatorUsPerSeriesMinute: number;
  /** Detector state bytes per series snapshotted to Redis (bench:detect). */
  stateBytesPerSeries: number;
  /** Detector state bytes per series in the heap of the process that evaluates (bench:detect). */
  processBytesPerSeries: number;
}

/** The workload: every account-region alike. */
export interface Workload {
  accounts: number;
  regions: number;
  /** Average management events per minute in one account-region. */
  eventsPerMinute: number;
  /** Distinct counter fields per minute of one account-region at that rate (attributions included). */
  counterFieldsPerMinute: number;
  /** Call-rate and error-rate series of one account-region (the evaluator observes each every minute). */
  seriesPerAccountRegion: number;
}

/** Trailsight's settings and the deployment's limits. */
export interface Settings {
  /** COUNTER_RETENTION_MINUTES: how long counters and their dedupe sets are kept. */
  counterRetentionMinutes: number;
  /** POLL_INTERVAL_SECONDS and POLL_OVERLAP_MINUTES: the live tail's re-reads. */
  pollIntervalSeconds: number;
  pollOverlapMinutes: number;
  /** LOOKUP_EVENTS_RATE: AWS's quota, requests per second per account-region, and events per page. */
  lookupEventsRate: number;
  lookupEventsPageSize: number;
  /** Share of a core one process (or one Redis primary) is planned to use. */
  coreUtilisation: number;
  /** Memory planned per Redis primary (its replica holds as much). */
  primaryMemoryBytes: number;
  /** Heap the evaluating detector process may hold detector states in. */
  evaluatorHeapBytes: number;
}

export const DEFAULT_SETTINGS: Settings = {
  counterRetentionMinutes: 8 * 1_440,
  pollIntervalSeconds: 10,
  pollOverlapMinutes: 15,
  lookupEventsRate: 2,
  lookupEventsPageSize: 50,
  coreUtilisation: 0.6,
  primaryMemoryBytes: 24 * 2 ** 30,
  evaluatorHeapBytes: 4 * 2 ** 30,
};

/**
 * One limit the workload meets as it grows, and how far it is from it. Pollers, detectors and
 * cluster primaries are added as needed; these are not: an account-region's LookupEvents quota
 * and the one evaluator job. one-redis-*: where a single Redis stops being enough (a cluster's
 * primaries lift it).
 */
export interface Limit {
  name: 'lookup-events-quota' | 'evaluator-cpu' | 'evaluator-heap' | 'one-redis-memory' | 'one-redis-cpu';
  /** How many times the workload can grow before reaching it (below 1: already past it). */
  headroom: number;
}

export interface CapacityPlan {
  accountRegions: number;
  eventsPerSecond: number;
  lookupEvents: {
    /** Pages per second one account-region's live tail reads (polls and sweeps). */
    pagesPerSecond: number;
    /** Of the LookupEvents quota (at or above 1: the live tail cannot keep up; use trail files). */
    quotaFraction: number;
    /** Highest events/min per account-region the live tail keeps up with at these settings. */
    liveTailCeilingEventsPerMinute: number;
  };
  pollerCores: number;
  pollerProcesses: number;
  countingCores: number;
  evaluatorCores: number;
  detectorProcesses: number;
  redisCpuCores: number;
  redisCommandsPerSecond: number;
  /** Primaries' memory (replicas hold as much again), by what holds it. */
  memoryBytes: { dedupe: number; counters: number; detectorStates: number; total: number };
  /** Cluster primaries: enough for the memory and the CPU, at least one. */
  primaries: number;
  /** Nearest first. */
  limits: Limit[];
}

/**
 * LookupEvents pages per second of one account-region's live tail (LookupEventsSource): every
 * poll reads [liveUntil - recheck, now] with recheck = min(overlap, 1 min); every sweep,
 * max(interval, overlap / 3) apart and in place of a poll, reads [last sweep's end - overlap, now].
 */
export function liveTailPagesPerSecond(eventsPerMinute: number, settings: Settings): number {
  const perSecond = eventsPerMinute / 60;
  const interval = settings.pollIntervalSeconds;
  const overlap = settings.pollOverlapMinutes * 60;
  const recheck = Math.min(overlap, 60);
  const sweepEvery = Math.max(interval, overlap / 3);
  const pages = (seconds: number) => Math.max(1, Math.ceil((perSecond * seconds) / settings.lookupEventsPageSize));
  const pollsPerSweep = Math.max(1, Math.round(sweepEvery / interval));
  return ((pollsPerSweep - 1) * pages(recheck + interval) + pages(overlap + sweepEvery)) / sweepEvery;
}

/** The events/min at which the live tail uses the whole quota (pages rounded up: a little below). */
function liveTailCeiling(settings: Settings): number {
  let low = 0;
  let high = settings.lookupEventsRate * settings.lookupEventsPageSize * 60;
  for (let i = 0; i < 40; i++) {
    const middle = (low + high) / 2;
    if (liveTailPagesPerSecond(middle, settings) <= settings.lookupEventsRate) low = middle;
    else high = middle;
  }
  return low;
}

export function capacityPlan(
  costs: MeasuredCosts,
  workload: Workload,
  settings: Settings = DEFAULT_SETTINGS,
): CapacityPlan {
  const accountRegions = workload.accounts * workload.regions;
  const eventsPerSecond = (accountRegions * workload.eventsPerMinute) / 60;
  const pagesPerSecond = liveTailPagesPerSecond(workload.eventsPerMinute, settings);
  const pollerCores = accountRegions * pagesPerSecond * costs.pollerCpuSecondsPerPage;
  const countingCores = eventsPerSecond / costs.detectorEventsPerCoreSecond;
  const series = accountRegions * workload.seriesPerAccountRegion;
  // One evaluator job covers every account-region, in whichever detector takes it.
  const evaluatorCores = (series * costs.evaluatorUsPerSeriesMinute) / 60e6;
  const redisCpuCores = (eventsPerSecond * costs.redisCpuUsPerEvent) / 1e6;
  const retention = settings.counterRetentionMinutes;
  const dedupe = accountRegions * workload.eventsPerMinute * retention * costs.seenBytesPerEvent;
  const counters = accountRegions * workload.counterFieldsPerMinute * retention * costs.bytesPerCounterField;
  const detectorStates = series * costs.stateBytesPerSeries;
  const total = dedupe + counters + detectorStates;
  const primaries = Math.max(
    1,
    Math.ceil(total / settings.primaryMemoryBytes),
    Math.ceil(redisCpuCores / settings.coreUtilisation),
  );
  const limits: Limit[] = [
    { name: 'lookup-events-quota' as const, headroom: settings.lookupEventsRate / pagesPerSecond },
    { name: 'evaluator-cpu' as const, headroom: settings.coreUtilisation / evaluatorCores },
    { name: 'evaluator-heap' as const, headroom: settings.evaluatorHeapBytes / (series * costs.processBytesPerSeries) },
    { name: 'one-redis-memory' as const, headroom: settings.primaryMemoryBytes / total },
    { name: 'one-redis-cpu' as const, headroom: settings.coreUtilisation / redisCpuCores },
  ].sort((a, b) => a.headroom - b.headroom);
  return {
    accountRegions,
    eventsPerSecond,
    lookupEvents: {
      pagesPerSecond,
      quotaFraction: pagesPerSecond / settings.lookupEventsRate,
      liveTailCeilingEventsPerMinute: liveTailCeiling(settings),
    },
    pollerCores,
    pollerProcesses: Math.max(1, Math.ceil(pollerCores / settings.coreUtilisation)),
    countingCores,
    evaluatorCores,
    detectorProcesses: Math.max(1, Math.ceil((countingCores + evaluatorCores) / settings.coreUtilisation)),
    redisCpuCores,
    redisCommandsPerSecond: eventsPerSecond * costs.redisCommandsPerEvent,
    memoryBytes: { dedupe, counters, detectorStates, total },
    primaries,
    limits,
  };
}
