import type { InsightRecord } from '@trailsight/domain';

/** Told of every Insights record the evaluator emits (webhook delivery is one). Optional. */
export interface InsightListener {
  notify(event: 'insight.start' | 'insight.end', record: InsightRecord): Promise<void>;
}

export const INSIGHT_LISTENER = Symbol('INSIGHT_LISTENER');
