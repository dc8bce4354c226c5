import type { AccountRegion } from '@trailsight/domain';
import type { InsightInput } from '@trailsight/findings';
import type { SeriesVerdict } from '../core/series-verdict.js';
import { attributionsOf } from './attributions.js';
import type { SeriesRef } from './series-ref.js';

type CounterHash = Readonly<Record<string, number>>;

/** What the record builder needs for one insight verdict (Start or End), attributions included. */
export function insightInputOf(
  source: AccountRegion,
  ref: SeriesRef,
  verdict: SeriesVerdict,
  insightPeriod: { hashes: readonly CounterHash[]; minutes: number },
  baselinePeriod: { hashes: readonly CounterHash[]; minutes: number },
): InsightInput {
  const insight = verdict.insight;
  if (!insight) throw new Error(`no insight at minute ${verdict.minute} of ${ref.key}`);
  return {
    accountId: source.accountId,
    region: source.region,
    eventSource: ref.eventSource,
    eventName: ref.eventName,
    insightType: ref.insightType,
    ...(ref.errorCode === undefined ? {} : { errorCode: ref.errorCode }),
    startMinute: insight.startMinute,
    durationMinutes: insight.durationMinutes,
    insightAverage: insight.average,
    baselineAverage: verdict.baselineAverage,
    baselineDurationMinutes: verdict.baselineDurationMinutes,
    attributions: attributionsOf(ref, insightPeriod, baselinePeriod),
  };
}

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

/** AWS's attribution baseline: the whole hours of the (up to) 7 days before the insight, within the history. */
export function baselineWindow(
  startMinute: number,
  historyStart: number,
): { from: number; to: number; minutes: number } {
  const to = startMinute - (startMinute % HOUR);
  const from = Math.min(to, Math.max(to - WEEK, historyStart));
  return { from, to, minutes: (to - from) / 60_000 };
}
