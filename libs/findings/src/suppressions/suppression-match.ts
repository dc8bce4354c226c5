import type { AttributeName, InsightRecord, InsightRecordType } from '@trailsight/domain';
import {
  type FindingDirection,
  hasNewActor,
  NEW_ACTOR_KINDS,
  type NewActorKind,
  type NewActors,
} from '../findings/finding.js';

/**
 * What a suppression rule or maintenance window covers: every field given must match (AND).
 * String fields are patterns where `*` stands for any run of characters (none included) and
 * everything else is literal and case-sensitive. `userIdentityArn` and `userAgent` match the
 * insight's top contributor (see topContributor). `newActor` matches on the finding's new actors
 * (see hasNewActor): `any`, `identity`, `userAgent` or `none`.
 */
export interface SuppressionMatch {
  accountId?: string;
  region?: string;
  eventSource?: string;
  eventName?: string;
  insightType?: InsightRecordType;
  errorCode?: string;
  direction?: FindingDirection;
  userIdentityArn?: string;
  userAgent?: string;
  newActor?: NewActorKind;
}

/** What a match is tested against: a finding (new or stored) with its Start record. */
export interface MatchSubject {
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  insightType: InsightRecordType;
  errorCode?: string;
  direction: FindingDirection;
  records: { start: InsightRecord };
  /** Absent on findings stored before new actors existed: then `newActor` matches nothing. */
  newActors?: NewActors;
}

const PATTERN_FIELDS = [
  'accountId',
  'region',
  'eventSource',
  'eventName',
  'errorCode',
  'userIdentityArn',
  'userAgent',
] as const;
type PatternField = (typeof PATTERN_FIELDS)[number];

/** Characters each pattern may hold besides `*`: those its value can contain. */
const ALLOWED: Record<PatternField, RegExp> = {
  accountId: /^[0-9*]+$/,
  region: /^[a-z0-9*-]+$/,
  eventSource: /^[A-Za-z0-9._:*-]+$/,
  eventName: /^[A-Za-z0-9._:*-]+$/,
  errorCode: /^[A-Za-z0-9._:*-]+$/,
  // ARNs hold no spaces; user agents any printable character.
  userIdentityArn: /^[\x21-\x7e]+$/,
  userAgent: /^[^\p{Cc}]+$/u,
};
const MAX_PATTERN_LENGTH = 512;
const INSIGHT_TYPES: readonly string[] = ['ApiCallRateInsight', 'ApiErrorRateInsight'];
const DIRECTIONS: readonly string[] = ['spike', 'drop'];
/** Fields whose value is one of a list (a Map: a body's `toString` key is no field). */
const ENUM_FIELDS = new Map<string, readonly string[]>([
  ['insightType', INSIGHT_TYPES],
  ['direction', DIRECTIONS],
  ['newActor', NEW_ACTOR_KINDS],
]);

/**
 * Problems with a match, each naming its field (`match.eventName ...`); empty when it is valid.
 * A rule's match must name at least one field (an empty one would mute everything); a
 * maintenance window's may be empty (`allowEmpty`): everything during the window.
 */
export function matchProblems(match: unknown, { allowEmpty = false } = {}): string[] {
  if (typeof match !== 'object' || match === null || Array.isArray(match)) return ['match must be an object'];
  const problems: string[] = [];
  const entries = Object.entries(match as Record<string, unknown>);
  for (const [field, value] of entries) {
    const allowed = ENUM_FIELDS.get(field);
    if (allowed) {
      if (typeof value !== 'string' || !allowed.includes(value))
        problems.push(`match.${field} must be one of ${allowed.join(', ')}`);
    } else if ((PATTERN_FIELDS as readonly string[]).includes(field)) {
      const problem = patternProblem(field as PatternField, value);
      if (problem) problems.push(problem);
    } else {
      problems.push(`match.${field} is not a match field (${[...PATTERN_FIELDS, ...ENUM_FIELDS.keys()].join(', ')})`);
    }
  }
  if (entries.length === 0 && !allowEmpty) problems.push('match must name at least one field');
  return problems;
}

function patternProblem(field: PatternField, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return `match.${field} must be a non-empty string`;
  if (value.length > MAX_PATTERN_LENGTH) return `match.${field} must be at most ${MAX_PATTERN_LENGTH} characters`;
  if (!ALLOWED[field].test(value))
    return `match.${field} is not a valid pattern: it holds a character a ${field} cannot contain (only "*" is a wildcard)`;
  return undefined;
}

/** A compiled match: build once per rule, test many findings. */
export type Matcher = (subject: MatchSubject) => boolean;

/** Compiles a valid match (see matchProblems). */
export function compileMatch(match: SuppressionMatch): Matcher {
  const tests: Matcher[] = [];
  for (const field of PATTERN_FIELDS) {
    const pattern = match[field];
    if (pattern === undefined) continue;
    const regex = patternRegex(pattern);
    if (field === 'userIdentityArn' || field === 'userAgent') {
      tests.push((s) => {
        const top = topContributor(s.records.start, field);
        return top !== undefined && regex.test(top);
      });
    } else {
      tests.push((s) => {
        const value = s[field];
        return value !== undefined && regex.test(value);
      });
    }
  }
  if (match.insightType !== undefined) tests.push((s) => s.insightType === match.insightType);
  if (match.direction !== undefined) tests.push((s) => s.direction === match.direction);
  const { newActor } = match;
  if (newActor !== undefined) tests.push((s) => hasNewActor(s.newActors, newActor));
  return (subject) => tests.every((test) => test(subject));
}

/** `*` is any run of characters; everything else is literal. Anchored at both ends. */
function patternRegex(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/**
 * The insight's top contributor for an attribute: the first value of that attribute's `insight`
 * list in the Start record's attributions, i.e. the value with the highest events-per-minute
 * average over the insight's first evaluated minutes, ties broken by the smaller value in string
 * order (how the record builder sorts). Undefined when the record lists none (a drop to zero,
 * or a record without attributions): then a pattern on that attribute does not match.
 */
export function topContributor(record: InsightRecord, attribute: AttributeName): string | undefined {
  const attribution = record.insightDetails.insightContext.attributions?.find((a) => a.attribute === attribute);
  return attribution?.insight[0]?.value;
}
