import type { AccountRegion, InsightRecord } from '@trailsight/domain';
import { buildEndRecord, buildStartRecord, type InsightInput } from '@trailsight/findings';
import type { InsightEnd, InsightStart } from '../core/insight-lifecycle.js';
import { attributionsOf } from './attributions.js';
import { insightIds } from './insight-ids.js';
import type { SeriesRef } from './series-ref.js';

type CounterHash = Readonly<Record<string, number>>;

/** The counters a Start or End decision names (its period's minutes, its baseline's hours), as read. */
export interface DecisionCounters {
  period: readonly CounterHash[];
  baseline: readonly CounterHash[];
}

/** What the record builder needs for one Start or End decision, attributions included. */
export function insightInputOf(
  source: AccountRegion,
  ref: SeriesRef,
  { verdict, insight, period, baseline }: InsightStart | InsightEnd,
  counters: DecisionCounters,
): InsightInput {
  return {
    accountId: source.accountId,
    region: source.region,
    eventSource: ref.eventSource,
    eventName: ref.eventName,
    insightType: ref.insightType,
    ...(ref.errorCode === undefined ? {} : { errorCode: ref.errorCode }),
    ...(ref.eventCategory === 'Data' ? { sourceEventCategory: 'Data' as const } : {}),
    startMinute: insight.startMinute,
    durationMinutes: insight.durationMinutes,
    insightAverage: insight.average,
    baselineAverage: verdict.baselineAverage,
    baselineDurationMinutes: verdict.baselineDurationMinutes,
    attributions: attributionsOf(
      ref,
      { hashes: counters.period, minutes: period.minutes },
      { hashes: counters.baseline, minutes: baseline.minutes },
    ),
  };
}

/**
 * The Start or End record of a decision. `scope` names the deployment and account-region, so
 * ids are stable across replays (insight-ids.ts).
 */
export function insightRecordOf(
  scope: string,
  ref: SeriesRef,
  decision: InsightStart | InsightEnd,
  input: InsightInput,
): InsightRecord {
  const ids = insightIds(scope, ref.key, decision.insight.startMinute);
  return decision.kind === 'start'
    ? buildStartRecord(input, { sharedEventID: ids.sharedEventID, eventID: ids.startEventID })
    : buildEndRecord(input, { sharedEventID: ids.sharedEventID, eventID: ids.endEventID });
}
