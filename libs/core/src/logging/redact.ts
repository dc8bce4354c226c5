const MASK = '[redacted]';

/** Field names (lower-cased, without - and _) whose values never reach a log. */
const SECRET_FIELD = /secret|passw(or)?d|authori[sz]ation|apikey|cookie|credential|privatekey|token$/;
/** Token-like names that are not secrets (LookupEvents pagination). */
const NOT_SECRET = new Set(['nexttoken']);

/** Credentials inside URLs (redis://user:pass@host) and HTTP auth schemes in free text. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s/@]+@/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
/** Credentials in query strings of URLs inside free text (`?token=…`, `&sig=…`). */
const QUERY_SECRET =
  /([?&](?:access_?token|token|api_?key|key|secret|sig|signature|password|passwd|auth|code)=)[^&#\s"']+/gi;

const MAX_DEPTH = 8;

/**
 * A copy of `value` that is safe to log: fields that look like API keys, secrets, passwords,
 * tokens or authorization headers are masked at any depth, and so are passwords in URLs and
 * bearer credentials inside strings. Errors, dates and buffers are kept as they are.
 */
export function redact<T>(value: T): T {
  return redactValue(value, 0, new WeakSet()) as T;
}

/**
 * A URL as a log line or an error may show it: scheme, host and port only. Credentials live in
 * user info (redis://user:pass@host), paths (Slack-style /services/T/B/XXXX) and queries
 * (?token=), so all of those are dropped. Text that is not a URL with a host is masked as free text.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.host) return `${parsed.protocol}//${parsed.host}`;
  } catch {
    // not a URL: fall through
  }
  // Unparseable but credential-shaped (a password with / or @ in it): mask up to the last @.
  const withUserInfo = /^([a-z][a-z0-9+.-]*:\/\/)\S*@([^@\s/?#]*)/i.exec(url);
  if (withUserInfo) return `${withUserInfo[1]}${MASK}@${withUserInfo[2]}`;
  return redactString(url);
}

export function isSecretField(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[-_]/g, '');
  return SECRET_FIELD.test(normalized) && !NOT_SECRET.has(normalized);
}

function redactString(text: string): string {
  return text.replace(URL_PASSWORD, `$1${MASK}@`).replace(AUTH_SCHEME, `$1 ${MASK}`).replace(QUERY_SECRET, `$1${MASK}`);
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error || value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, seen));
    if (value instanceof Map) {
      return new Map(
        [...value].map(([k, v]) => [k, isSecretField(String(k)) ? MASK : redactValue(v, depth + 1, seen)]),
      );
    }
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      copy[key] = isSecretField(key) ? MASK : redactValue(field, depth + 1, seen);
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}
