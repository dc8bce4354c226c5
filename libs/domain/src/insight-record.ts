/**
 * The AWS CloudTrail Insights event record, field for field as documented
 * (reference doc §2.1). Optional fields are optional because AWS's own examples omit them.
 */

/** AWS's two insight types (the same union as the detector's `InsightType`). */
export type InsightRecordType = 'ApiCallRateInsight' | 'ApiErrorRateInsight';

export type InsightState = 'Start' | 'End';

export type AttributeName = 'userIdentityArn' | 'userAgent' | 'errorCode';

export interface AttributionEntry {
  value: string;
  /** Events per minute. */
  average: number;
}

export interface Attribution {
  attribute: AttributeName;
  /** At most 5, sorted by average, descending. */
  insight: AttributionEntry[];
  /** At most 5, sorted by average, descending; `[]` when nothing happened in the baseline window. */
  baseline: AttributionEntry[];
}

interface InsightStatistics {
  baseline: { average: number };
  insight: { average: number };
  /** Minutes. */
  insightDuration?: number;
  /** Minutes. */
  baselineDuration?: number;
}

interface InsightDetails {
  state: InsightState;
  eventSource: string;
  eventName: string;
  insightType: InsightRecordType;
  /** ApiErrorRateInsight only: the one error code the insight is about. */
  errorCode?: string;
  sourceEventCategory?: 'Management' | 'Data';
  /** Trail ARN; AWS sets it on data-event insights only. */
  insightSource?: string;
  insightContext: {
    statistics: InsightStatistics;
    attributions?: Attribution[];
  };
}

export interface InsightRecord {
  eventVersion: string;
  /** `YYYY-MM-DDTHH:MM:SSZ`. */
  eventTime: string;
  awsRegion: string;
  eventID: string;
  eventType: 'AwsCloudTrailInsight';
  recipientAccountId?: string;
  sharedEventID: string;
  insightDetails: InsightDetails;
  eventCategory: 'Insight';
  /** CloudTrail Lake only. */
  addendum?: Record<string, unknown>;
}
