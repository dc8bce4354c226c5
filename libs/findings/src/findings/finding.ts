import type { InsightRecord, InsightRecordType, InsightsEventCategory } from '@trailsight/domain';
import type { InsightInput, SeriesIdentity } from '../records/insight-record.builder.js';

export type FindingState = 'open' | 'closed';
/** An operator's triage of a finding, apart from the insight's own open/closed state. */
export type TriageState = 'new' | 'acknowledged' | 'resolved';
export const TRIAGE_STATES: readonly TriageState[] = ['new', 'acknowledged', 'resolved'];
/** Longest triage note kept: a sentence or two, not a runbook. */
export const TRIAGE_NOTE_MAX_LENGTH = 1_000;

/** One triage change, as kept in the finding's history (oldest first). */
export interface TriageChange {
  from: TriageState;
  to: TriageState;
  note?: string;
  /** Id of the API key that made the change. */
  keyId: string;
  /** ISO-8601 time of the change. */
  at: string;
}
/** Above the expected range, or below it (a busy API going quiet). */
export type FindingDirection = 'spike' | 'drop';

/** The detector's normal range for a minute: values inside [lower, upper] are not anomalous. */
export interface ExpectedRange {
  expected: number;
  lower: number;
  upper: number;
}

/** Identities (ARNs) and user agents. */
interface ActorLists {
  userIdentityArn: string[];
  userAgent: string[];
}

/**
 * Identities and user agents among the insight's attributions (the record's top 5) never seen on
 * this API in the baseline window: their baseline average is 0. `onAccountRegion` narrows them to
 * those with no counted call on the whole account-region in that window either (absent on findings
 * stored before it existed).
 */
export interface NewActors extends ActorLists {
  onAccountRegion?: ActorLists;
}

/**
 * Which new actors a suppression match or destination filter asks for: `identity` (a new
 * identity ARN), `userAgent` (a new user agent), `any` (either) or `none` (neither). "New" is on
 * this API in the baseline window (NewActors' top lists, not `onAccountRegion`).
 */
export const NEW_ACTOR_KINDS = ['any', 'identity', 'userAgent', 'none'] as const;
export type NewActorKind = (typeof NEW_ACTOR_KINDS)[number];

/**
 * Whether a finding's new actors are of `kind`. A finding stored before new actors existed
 * (`newActors` absent) is unknown: it matches no kind, not even `none`.
 */
export function hasNewActor(newActors: NewActors | undefined, kind: NewActorKind): boolean {
  if (!newActors) return false;
  const identity = newActors.userIdentityArn.length > 0;
  const userAgent = newActors.userAgent.length > 0;
  switch (kind) {
    case 'identity':
      return identity;
    case 'userAgent':
      return userAgent;
    case 'any':
      return identity || userAgent;
    case 'none':
      return !identity && !userAgent;
  }
}

/** One insight, from its Start record until (and after) its End record. */
export interface Finding {
  /** The records' sharedEventID. */
  id: string;
  state: FindingState;
  /** `new` until an operator acknowledges or resolves it (PATCH /v1/findings/{id}). */
  triage: TriageState;
  insightType: InsightRecordType;
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  /** ApiErrorRateInsight only. */
  errorCode?: string;
  /** The events the insight is about: Management, or Data (INSIGHTS_EVENT_CATEGORIES). */
  sourceEventCategory: InsightsEventCategory;
  direction: FindingDirection;
  /** The Start record's eventTime (`YYYY-MM-DDTHH:MM:SSZ`). */
  startTime: string;
  /** The End record's eventTime, once closed. */
  endTime?: string;
  durationMinutes: number;
  /** Events per minute over the baseline window (AWS's baseline average). */
  baselineAverage: number;
  baselineDurationMinutes: number;
  /** Events per minute: the triggering minute at first, the mean over the insight later. */
  insightAverage: number;
  /** Largest |score| seen so far. */
  peakScore: number;
  /** The detector's expected range at the latest minute evaluated. */
  expected?: ExpectedRange;
  records: { start: InsightRecord; end?: InsightRecord };
  /**
   * Ids of the suppression rules and maintenance windows that muted it when it was first stored
   * (never changed after: deleting a rule does not un-mute it). Absent when nothing did.
   */
  suppressedBy?: string[];
  /** From the Start record's attributions, then the End record's; absent on findings stored before. */
  newActors?: NewActors;
  /** ISO-8601 time of the last write. */
  updatedAt: string;
}

/** What `open()` needs: the finding as of its Start record. */
export type NewFinding = Omit<Finding, 'state' | 'triage' | 'endTime' | 'updatedAt' | 'records'> & {
  records: { start: InsightRecord };
};

/** What changes while a finding stays open (absolute values, so a repeated update is harmless). */
export interface FindingProgress {
  durationMinutes: number;
  insightAverage: number;
  peakScore: number;
  expected?: ExpectedRange;
}

/** One minute of the series around a finding. */
export interface SeriesPoint {
  minute: number;
  value: number;
  expected: number;
  lower: number;
  upper: number;
  baselineAverage: number;
}

/** Assembles the finding of a Start record built from `input`. */
export function newFinding(
  input: InsightInput,
  start: InsightRecord,
  detector: { direction: FindingDirection; peakScore: number; expected?: ExpectedRange },
): NewFinding {
  const statistics = start.insightDetails.insightContext.statistics;
  return {
    id: start.sharedEventID,
    insightType: input.insightType,
    accountId: input.accountId,
    region: input.region,
    eventSource: input.eventSource,
    eventName: input.eventName,
    ...(input.errorCode === undefined ? {} : { errorCode: input.errorCode }),
    sourceEventCategory: input.sourceEventCategory ?? 'Management',
    direction: detector.direction,
    startTime: start.eventTime,
    durationMinutes: input.durationMinutes,
    baselineAverage: statistics.baseline.average,
    baselineDurationMinutes: statistics.baselineDuration ?? Math.round(input.baselineDurationMinutes),
    insightAverage: statistics.insight.average,
    peakScore: detector.peakScore,
    ...(detector.expected ? { expected: detector.expected } : {}),
    newActors: newActorsOf(input, start),
    records: { start },
  };
}

/**
 * The record's listed identities and user agents whose per-minute baseline average on this API is
 * 0, and among them those not seen on the account-region either (when the attributions say
 * whether each was: absent otherwise).
 */
export function newActorsOf(input: InsightInput, record: InsightRecord): NewActors {
  const listed = record.insightDetails.insightContext.attributions ?? [];
  const unseen = (attribute: keyof ActorLists, scope: 'api' | 'accountRegion'): string[] => {
    const baseline = new Map((input.attributions?.[attribute] ?? []).map((v) => [v.value, v]));
    const insight = listed.find((a) => a.attribute === attribute)?.insight ?? [];
    return insight
      .map((entry) => entry.value)
      .filter((value) => {
        const known = baseline.get(value);
        if (known?.baselineAverage !== 0) return false;
        return scope === 'api' || known.seenOnAccountRegion === false;
      });
  };
  const api = { userIdentityArn: unseen('userIdentityArn', 'api'), userAgent: unseen('userAgent', 'api') };
  // The account-region scope only when the attributions say it (the evaluator's always do).
  const known = [...(input.attributions?.userIdentityArn ?? []), ...(input.attributions?.userAgent ?? [])].some(
    (v) => v.seenOnAccountRegion !== undefined,
  );
  if (!known) return api;
  return {
    ...api,
    onAccountRegion: {
      userIdentityArn: unseen('userIdentityArn', 'accountRegion'),
      userAgent: unseen('userAgent', 'accountRegion'),
    },
  };
}

/**
 * A series' identity as one string: the key of its open finding. A data series adds its
 * category; a management series' key is the one stored before categories existed.
 */
export function seriesKeyOf(series: SeriesIdentity): string {
  const identity = [
    series.accountId,
    series.region,
    series.insightType,
    series.eventSource,
    series.eventName,
    series.errorCode ?? null,
  ];
  if (series.sourceEventCategory === 'Data') identity.push('Data');
  return JSON.stringify(identity);
}
