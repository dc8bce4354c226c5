import { parseSeriesField, type SeriesKey } from '@trailsight/domain';
import type { InsightType } from '../core/series-verdict.js';

/** One evaluated series of an account-region, with its counter field (series-key.ts) as `key`. */
export interface SeriesRef extends SeriesKey {
  key: string;
  insightType: InsightType;
}

/** The series a counter field is, or undefined for attribution fields (cu|, ca|, eu|, ea|). */
export function seriesOfField(field: string): SeriesRef | undefined {
  const series = parseSeriesField(field);
  return series && { key: field, ...series };
}
