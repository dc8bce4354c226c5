import type { AccountRegion, CloudTrailRecord, SlimEvent, UserIdentity } from '@trailsight/domain';
import { inferReadOnly } from './read-only.js';
import { checkRecordInto, eventTimeMs, type CheckedRecord, type Reject } from './record-parser.js';

/** AWS caps userAgent at 1 KB and ARNs at 2048 characters; a forged record cannot bloat a job. */
const MAX_USER_AGENT = 1024;
const MAX_IDENTITY_KEY = 2048;
// Account ids go into the `{account:region}` hash tag: no braces, colons or spaces.
const ACCOUNT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The queue form of a record that parseRecord accepted (its eventTime is a valid ISO time). */
export function toSlimEvent(record: CloudTrailRecord): SlimEvent {
  const slim: SlimEvent = {
    id: record.eventID,
    t: eventTimeMs(record.eventTime) ?? Date.parse(record.eventTime),
    src: record.eventSource,
    name: record.eventName,
    ro: record.readOnly ?? inferReadOnly(record.eventName),
    arn: identityKey(record.userIdentity),
    ua: (record.userAgent ?? '').slice(0, MAX_USER_AGENT),
  };
  if (record.errorCode) slim.err = record.errorCode;
  return slim;
}

export type SlimEventResult = { ok: true; event: SlimEvent; source: AccountRegion } | { ok: false; reject: Reject };

/**
 * One parsed JSON value straight to its queue form and account-region: the same rules and
 * result as parseRecord, toSlimEvent and accountRegionOf, without copying the record.
 */
export function parseSlimEvent(raw: unknown, fallbackAccountId?: string): SlimEventResult {
  const checked: CheckedRecord = { fields: {}, eventTimeMs: 0, readOnly: false, errorCode: undefined };
  const problem = checkRecordInto(raw, checked);
  if (problem) return { ok: false, reject: problem };
  const record = checked.fields as unknown as CloudTrailRecord;
  return {
    ok: true,
    event: slimEventOf(checked),
    source: { accountId: accountIdOf(record, fallbackAccountId), region: record.awsRegion },
  };
}

/** The queue form of a record that checkRecordInto accepted. */
export function slimEventOf({ fields, eventTimeMs: t, readOnly, errorCode }: CheckedRecord): SlimEvent {
  const record = fields as unknown as CloudTrailRecord;
  const event: SlimEvent = {
    id: record.eventID,
    t,
    src: record.eventSource,
    name: record.eventName,
    ro: readOnly,
    arn: identityKey(record.userIdentity ?? undefined),
    ua: (record.userAgent ?? '').slice(0, MAX_USER_AGENT),
  };
  if (errorCode !== undefined) event.err = errorCode;
  return event;
}

/**
 * The account-region a record is counted under. The account is the one that received the
 * event: `recipientAccountId`, else the account of the trail file's path (`fallbackAccountId`,
 * from parseTrailFileKey), else `userIdentity.accountId`. The path wins over the identity because
 * on a cross-account call the identity's account is the caller's, not the one the trail is for.
 * Records before eventVersion 1.02 have no recipientAccountId, and AWS-service identities no
 * accountId: with none of the three the account is 'unknown'.
 */
export function accountRegionOf(record: CloudTrailRecord, fallbackAccountId?: string): AccountRegion {
  return { accountId: accountIdOf(record, fallbackAccountId), region: record.awsRegion };
}

/** The account of accountRegionOf. */
export function accountIdOf(record: CloudTrailRecord, fallbackAccountId?: string): string {
  if (isAccountId(record.recipientAccountId)) return record.recipientAccountId;
  if (isAccountId(fallbackAccountId)) return fallbackAccountId;
  if (isAccountId(record.userIdentity?.accountId)) return record.userIdentity.accountId;
  return 'unknown';
}

let lastAccountId = '';
function isAccountId(id: unknown): id is string {
  if (typeof id !== 'string') return false;
  if (id === lastAccountId) return true; // consecutive records share their account
  if (!ACCOUNT_PATTERN.test(id)) return false;
  lastAccountId = id;
  return true;
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
