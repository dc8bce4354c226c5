import type { InsightType } from '../core/series-verdict.js';

/**
 * One evaluated series of an account-region, named by its counter field (counter-fields.ts):
 * `c|<source>|<name>` is the call-rate series of a write API, `e|<source>|<name>|<code>` the
 * error-rate series of one error code. The field doubles as the series key.
 */
export interface SeriesRef {
  key: string;
  insightType: InsightType;
  eventSource: string;
  eventName: string;
  errorCode?: string;
}

/** The series a counter field is, or undefined for attribution fields (cu|, ca|, eu|, ea|). */
export function seriesOfField(field: string): SeriesRef | undefined {
  if (field.startsWith('c|')) {
    const [, eventSource = '', eventName = ''] = field.split('|', 3);
    return { key: field, insightType: 'ApiCallRateInsight', eventSource, eventName };
  }
  if (field.startsWith('e|')) {
    const first = field.indexOf('|', 2);
    const second = field.indexOf('|', first + 1);
    if (first < 0 || second < 0) return undefined;
    return {
      key: field,
      insightType: 'ApiErrorRateInsight',
      eventSource: field.slice(2, first),
      eventName: field.slice(first + 1, second),
      errorCode: field.slice(second + 1),
    };
  }
  return undefined;
}
