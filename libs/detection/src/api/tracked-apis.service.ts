import { Inject, Injectable } from '@nestjs/common';
import { type AccountRegion, MINUTE_MS, minuteOf, parseSeriesField } from '@trailsight/domain';
import { CounterRepository } from '../counters/counter.repository.js';
import type { ListTrackedApisQueryDto, TrackedApiDto, TrackedApisDto } from './dto/tracked-apis.dto.js';
import { TrackedApisRepository, type StoredVerdict } from './tracked-apis.repository.js';

/** Injection token for the clock, so tests can pin "now". */
export const TRACKED_APIS_CLOCK = Symbol('TRACKED_APIS_CLOCK');

/**
 * The series being tracked, with their current rate and baseline. Where the evaluator has run for
 * an account-region, its latest verdict per series is used (rate of the last evaluated minute,
 * its baseline, expected range and open finding). Otherwise the per-minute counters are read:
 * current = the last closed minute, baseline = the mean over `windowMinutes` before it (minutes
 * without events count as 0).
 */
@Injectable()
export class TrackedApisService {
  constructor(
    private readonly counters: CounterRepository,
    private readonly tracked: TrackedApisRepository,
    @Inject(TRACKED_APIS_CLOCK) private readonly now: () => number,
  ) {}

  async list(query: ListTrackedApisQueryDto): Promise<TrackedApisDto> {
    const window = query.windowMinutes ?? 60;
    const current = minuteOf(this.now()) - MINUTE_MS;
    const from = current - window * MINUTE_MS;
    const sources = (await this.tracked.sources()).filter(
      (s) => (query.accountId ?? s.accountId) === s.accountId && (query.region ?? s.region) === s.region,
    );

    const items: TrackedApiDto[] = [];
    for (const source of sources) {
      const verdicts = await this.tracked.verdicts(source);
      if (verdicts.size > 0) {
        for (const [field, verdict] of verdicts) {
          const item = fromVerdict(source, field, verdict);
          if (item && matches(item, query)) items.push(item);
        }
        continue;
      }
      // Streamed a chunk of minutes at a time, series fields only: the memory of a request is
      // one entry per series, whatever the window and however many identities the account has.
      const series = new Map<string, { current: number; sum: number }>();
      for await (const chunk of this.counters.seriesMinutes(source, from, current)) {
        for (const { minute, fields } of chunk) {
          for (const [field, count] of Object.entries(fields)) {
            let entry = series.get(field);
            if (!entry) series.set(field, (entry = { current: 0, sum: 0 }));
            if (minute === current) entry.current += count;
            else entry.sum += count;
          }
        }
      }
      for (const [field, { current: rate, sum }] of series) {
        const identity = parseSeriesField(field);
        if (!identity) continue;
        const item: TrackedApiDto = {
          ...identity,
          accountId: source.accountId,
          region: source.region,
          currentRate: rate,
          currentMinute: new Date(current).toISOString(),
          baselineAverage: Number((sum / window).toFixed(10)),
          baselineWindowMinutes: window,
        };
        if (matches(item, query)) items.push(item);
      }
    }
    items.sort(
      (a, b) => b.currentRate - a.currentRate || b.baselineAverage - a.baselineAverage || key(a).localeCompare(key(b)),
    );
    return { items: items.slice(0, query.limit ?? 200), total: items.length };
  }
}

function key(api: TrackedApiDto): string {
  return [api.accountId, api.region, api.insightType, api.eventSource, api.eventName, api.errorCode ?? ''].join('|');
}

function matches(item: TrackedApiDto, query: ListTrackedApisQueryDto): boolean {
  return (
    (query.insightType === undefined || query.insightType === item.insightType) &&
    (query.eventSource === undefined || query.eventSource === item.eventSource)
  );
}

function fromVerdict(source: AccountRegion, field: string, verdict: StoredVerdict): TrackedApiDto | undefined {
  const identity = parseSeriesField(field);
  if (!identity) return undefined;
  return {
    ...identity,
    accountId: source.accountId,
    region: source.region,
    currentRate: verdict.value,
    currentMinute: new Date(verdict.minute).toISOString(),
    baselineAverage: verdict.baselineAverage,
    ...(verdict.expected === undefined || verdict.lower === undefined || verdict.upper === undefined
      ? {}
      : { expected: { expected: verdict.expected, lower: verdict.lower, upper: verdict.upper } }),
    ...(verdict.warmingUp === undefined ? {} : { warmingUp: verdict.warmingUp }),
    ...(verdict.openFindingId ? { openFindingId: verdict.openFindingId } : {}),
  };
}
