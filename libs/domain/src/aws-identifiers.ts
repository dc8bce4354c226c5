/**
 * The one check of the identifiers that become key parts: the account id and region (the
 * `{account:region}` hash tag of every key) and eventSource and eventName (the counter fields,
 * series-key.ts). Every way in (records, queued batches) uses these, so what one accepts the
 * other counts.
 */

/** AWS caps neither, but real ones are short; longer is a forged record bloating keys. */
export const MAX_API_NAME_LENGTH = 256;
const MAX_REGION_LENGTH = 64;
/**
 * The shape of an AWS region (`us-east-1`, `us-gov-west-1`): lowercase words and digits joined by
 * '-'. Looser than AWS's list on purpose: new regions appear, and published datasets anonymise
 * them (stratus: `sagov-westsouth-1r`). No braces, colons or spaces: it sits in the hash tag.
 */
const REGION_SHAPE = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;
/** Control characters (the counting script's fields are newline-separated) and the field separator. */
const NOT_IN_API_NAMES = /[\u0000-\u001f\u007f|]/;

/** A 12-digit AWS account id. */
export function isAccountId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 12) return false;
  for (let i = 0; i < 12; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/**
 * The last region that passed the full check: consecutive records share their region. Undefined
 * until one passed, so nothing (an empty region above all) is accepted before a real check.
 */
let lastRegion: string | undefined;
/** A region-shaped name (see REGION_SHAPE). */
export function isRegion(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (value === lastRegion) return true;
  if (value.length > MAX_REGION_LENGTH || !REGION_SHAPE.test(value)) return false;
  lastRegion = value;
  return true;
}

/** An eventSource or eventName that fits in a counter field: 1-256 characters, no '|', no control characters. */
export function isApiName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_API_NAME_LENGTH &&
    !NOT_IN_API_NAMES.test(value)
  );
}

/** Why `value` (called `name` in the message) is no account id, or undefined. */
export function accountIdProblem(value: unknown, name = 'accountId'): string | undefined {
  return isAccountId(value) ? undefined : `${name} must be a 12-digit AWS account id`;
}

/** Why `value` is no region, or undefined. */
export function regionProblem(value: unknown, name = 'region'): string | undefined {
  return isRegion(value)
    ? undefined
    : `${name} must look like an AWS region (us-east-1): lowercase letters and digits joined by '-'`;
}

/** Why `value` is no eventSource or eventName, or undefined. */
export function apiNameProblem(value: unknown, name: string): string | undefined {
  return isApiName(value)
    ? undefined
    : `${name} must be 1-${MAX_API_NAME_LENGTH} characters without '|' or control characters`;
}
