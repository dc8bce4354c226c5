import {
  eventCategoryOf,
  isAccountId,
  type AccountRegion,
  type CloudTrailRecord,
  type SlimEvent,
  type UserIdentity,
} from '@trailsight/domain';
import { inferReadOnly } from './read-only.js';
import { eventTimeMs, type CheckedRecord, type Reject } from './record-parser.js';

/** AWS caps userAgent at 1 KB and ARNs at 2048 characters; a forged record cannot bloat a job. */
const MAX_USER_AGENT = 1024;
const MAX_IDENTITY_KEY = 2048;

/**
 * The queue form of a record the parser accepted, the one converter of every source: a record
 * from parseRecord, or (the trail-file path, which does not copy records) the record as
 * checkRecordInto saw it with what it learnt, `checked`.
 */
export function toSlimEvent(record: CloudTrailRecord, checked?: CheckedRecord): SlimEvent {
  const event: SlimEvent = {
    eventId: record.eventID,
    eventTimeMs: checked ? checked.eventTimeMs : (eventTimeMs(record.eventTime) ?? Date.parse(record.eventTime)),
    eventSource: record.eventSource,
    eventName: record.eventName,
    readOnly: checked ? checked.readOnly : (record.readOnly ?? inferReadOnly(record.eventName)),
    identity: identityKey(record.userIdentity ?? undefined),
    userAgent: (record.userAgent ?? '').slice(0, MAX_USER_AGENT),
  };
  // The checked record is not normalised: its errorCode may still be '' or null.
  const errorCode = checked ? checked.errorCode : record.errorCode;
  if (errorCode) event.errorCode = errorCode;
  // Management, nearly every event, travels without the field: absent means Management.
  const category = checked ? checked.eventCategory : eventCategoryOf(record.eventCategory);
  if (category !== 'Management') event.eventCategory = category;
  return event;
}

/**
 * The account-region a record is counted under, or undefined when it has no account. The
 * account is the one that received the event: `recipientAccountId`, else the account of the trail
 * file's path (`fallbackAccountId`, from parseTrailFileKey), else `userIdentity.accountId`. The
 * path wins over the identity because on a cross-account call the identity's account is the
 * caller's, not the one the trail is for. Records before eventVersion 1.02 have no
 * recipientAccountId, and AWS-service identities no accountId: with none of the three there is
 * nowhere to count the event (see accountlessReject).
 */
export function accountRegionOf(record: CloudTrailRecord, fallbackAccountId?: string): AccountRegion | undefined {
  const accountId = accountIdOf(record, fallbackAccountId);
  return accountId === undefined ? undefined : { accountId, region: record.awsRegion };
}

/** The account of accountRegionOf. */
export function accountIdOf(record: CloudTrailRecord, fallbackAccountId?: string): string | undefined {
  if (isAccountId(record.recipientAccountId)) return record.recipientAccountId;
  if (isAccountId(fallbackAccountId)) return fallbackAccountId;
  if (isAccountId(record.userIdentity?.accountId)) return record.userIdentity.accountId;
  return undefined;
}

/**
 * Why a valid record without an account is set aside: counted in rejects and parked, as the
 * events queue parks a batch without a valid account, whatever the source.
 */
export function accountlessReject(record: CloudTrailRecord): Reject {
  return {
    reason: 'missing-field',
    detail: 'no account: recipientAccountId, the trail file path and userIdentity.accountId give none',
    eventId: record.eventID,
  };
}

/**
 * The identity an event is attributed to, as Insights' `userIdentityArn` attribution:
 * `userIdentity.arn` when present. Identities without one get a stable key instead, so their
 * calls still group together:
 * - IdentityCenterUser: `identitycenter:<identityStoreArn>/<userId>`
 * - AWSService: `service:<invokedBy>` (e.g. `service:ec2.amazonaws.com`)
 * - anything else: `<type>:<principalId | accountId | 'unknown'>`, e.g. the failed console
 *   sign-ins that AWS logs without an arn (`IAMUser:AIDA...`).
 * Line breaks are replaced by spaces: the key is a single-line queue field.
 */
export function identityKey(userIdentity: UserIdentity | undefined): string {
  return singleLine(rawIdentityKey(userIdentity ?? {})).slice(0, MAX_IDENTITY_KEY);
}

function rawIdentityKey(identity: UserIdentity): string {
  if (nonEmpty(identity.arn)) return identity.arn;
  const type = nonEmpty(identity.type) ? identity.type : 'Unknown';
  const { userId, identityStoreArn } = identity.onBehalfOf ?? {};
  if (type === 'IdentityCenterUser' && (nonEmpty(userId) || nonEmpty(identityStoreArn))) {
    return `identitycenter:${nonEmpty(identityStoreArn) ? identityStoreArn : 'unknown'}/${nonEmpty(userId) ? userId : 'unknown'}`;
  }
  if (type === 'AWSService') return `service:${nonEmpty(identity.invokedBy) ? identity.invokedBy : 'unknown'}`;
  const who = [identity.principalId, identity.accountId].find(nonEmpty) ?? 'unknown';
  return `${type}:${who}`;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function singleLine(text: string): string {
  // indexOf is a native scan, several times faster than a regular expression on every event.
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, ' ') : text;
}
