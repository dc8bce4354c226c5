/** Turning bad input into short, safe text for reject details and samples. */

export const SAMPLE_LIMIT = 2048;

/** The bad input as text for an operator: strings as they are, anything else as (bounded) JSON. */
export function sampleOf(value: unknown): string {
  if (typeof value === 'string') return truncate(value);
  try {
    return truncate(boundedJson(value, SAMPLE_LIMIT + 1));
  } catch {
    return '[unprintable value]';
  }
}

/** Cuts text to `limit` characters (ending in '…' when cut), never splitting a surrogate pair. */
export function truncate(text: string, limit = SAMPLE_LIMIT): string {
  if (text.length <= limit) return text;
  let end = limit - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * JSON.stringify that stops after about `limit` characters. JSON.stringify itself would walk
 * a 100 MB record whole, and overflow the stack on deeply nested arrays that JSON.parse (which
 * is iterative) accepts; here each level of nesting writes a character, so the recursion is
 * at most `limit` deep.
 */
function boundedJson(value: unknown, limit: number): string {
  let out = '';
  const write = (v: unknown): void => {
    if (out.length >= limit) return;
    if (typeof v === 'string') out += JSON.stringify(v.length > limit ? v.slice(0, limit) : v);
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out += String(v);
    else if (v === null || typeof v !== 'object') out += 'null';
    else if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length < limit; i++) {
        if (i > 0) out += ',';
        write(v[i]);
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      for (const key in v) {
        if (out.length >= limit) break;
        if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:`;
        first = false;
        write((v as Record<string, unknown>)[key]);
      }
      out += '}';
    }
  };
  write(value);
  return out;
}

/** `a number`, `an array of 3 items`, `null`... for reject details. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'string') return `a string (${JSON.stringify(truncate(value, 40))})`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, 5).map((key) => truncate(key, 40));
    return `an object with keys ${shown.join(', ')}${keys.length > 5 ? ', ...' : ''}`;
  }
  return value === undefined ? 'nothing' : `a ${typeof value}`;
}

export function errorMessage(error: unknown): string {
  return truncate(error instanceof Error ? error.message : String(error), 500);
}
