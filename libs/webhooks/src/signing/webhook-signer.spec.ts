import { generateWebhookSecret, signatureHeader, verifySignature } from './webhook-signer.js';

describe('webhook signatures', () => {
  const secret = 'a-shared-secret-of-some-length';
  const body = '{"version":"0","detail":{"x":1}}';
  const now = Date.UTC(2026, 8, 1, 12, 0, 0);

  it('signs "<t>.<raw body>" with HMAC-SHA256 and verifies the header it writes', () => {
    const header = signatureHeader(secret, body, now);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(header.startsWith(`t=${now / 1000},`)).toBe(true);
    expect(verifySignature(secret, body, header, { nowMs: now })).toEqual({ ok: true, timestamp: now / 1000 });
  });

  it('refuses another secret, a changed body, a missing header and a replay outside 5 minutes', () => {
    const header = signatureHeader(secret, body, now);
    expect(verifySignature('another-secret-entirely', body, header, { nowMs: now })).toMatchObject({ ok: false });
    expect(verifySignature(secret, body.replace('1', '2'), header, { nowMs: now })).toMatchObject({ ok: false });
    expect(verifySignature(secret, body, undefined)).toMatchObject({ ok: false, reason: 'missing signature header' });
    expect(verifySignature(secret, body, header, { nowMs: now + 301_000 })).toMatchObject({ ok: false });
    expect(verifySignature(secret, body, header, { nowMs: now + 299_000 })).toMatchObject({ ok: true });
  });

  it('generates distinct, long secrets', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});

describe('signatureHeader during a secret rotation', () => {
  it('carries one v1= per secret, new first, each verifying with its own secret only', () => {
    const body = '{"id":"x"}';
    const header = signatureHeader(['new-secret-0123456789', 'old-secret-0123456789'], body, 1_700_000_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    const at = { nowMs: 1_700_000_000_000 };
    expect(verifySignature('new-secret-0123456789', body, header, at).ok).toBe(true);
    expect(verifySignature('old-secret-0123456789', body, header, at).ok).toBe(true);
    expect(verifySignature('another-secret-01234567', body, header, at).ok).toBe(false);
  });
});
