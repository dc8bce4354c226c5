import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How old a signature's timestamp may be before a receiver should reject it (replay window). */
const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new subscription secret: 32 random bytes, shown once when the subscription is created. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** Hex HMAC-SHA256 of "<t>.<raw body>" under the subscription's secret. */
function signatureOf(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * The X-Trailsight-Signature header value: `t=<unix seconds>,v1=<hex hmac>`, with one `v1=` per
 * secret (during a rotation's grace period: the new secret's first, then the old one's).
 */
export function signatureHeader(
  secrets: string | readonly string[],
  body: string | Buffer,
  nowMs = Date.now(),
): string {
  const t = Math.floor(nowMs / 1000);
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${t}`, ...all.map((secret) => `v1=${signatureOf(secret, t, body)}`)].join(',');
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does: parse the header, recompute the HMAC over the raw body, compare in
 * constant time, and refuse timestamps outside the replay window.
 */
export function verifySignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | undefined,
  options: { nowMs?: number; toleranceSeconds?: number } = {},
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing signature header' };
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    if (at <= 0) continue;
    const key = item.slice(0, at).trim();
    parts.set(key, [...(parts.get(key) ?? []), item.slice(at + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  const candidates = parts.get('v1') ?? [];
  if (!Number.isInteger(t) || candidates.length === 0) return { ok: false, reason: 'malformed signature header' };
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    return { ok: false, reason: `timestamp ${t} outside the replay window` };
  }
  const expected = Buffer.from(signatureOf(secret, t, rawBody), 'hex');
  const matches = candidates.some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true, timestamp: t } : { ok: false, reason: 'signature mismatch' };
}
