import { isSecretField, redact, redactUrl } from './redact.js';

describe('redact', () => {
  it('masks secret-looking fields at any depth and keeps the rest', () => {
    const input = {
      id: 'wh-1',
      url: 'https://hooks.example.com/in',
      secret: 'whsec_123',
      headers: { Authorization: 'Bearer abc.def', 'x-api-key': 'k'.repeat(20), accept: 'application/json' },
      apiKeys: [{ key: 'k'.repeat(16), scope: 'admin' }],
      aws: { accessKeyId: 'AKIA...', secretAccessKey: 'xyz', sessionToken: 'tok' },
      nested: [{ password: 'hunter2', name: 'alice' }],
      nextToken: 'page-2',
      count: 3,
    };
    expect(redact(input)).toEqual({
      id: 'wh-1',
      url: 'https://hooks.example.com/in',
      secret: '[redacted]',
      headers: { Authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' },
      apiKeys: '[redacted]',
      aws: { accessKeyId: 'AKIA...', secretAccessKey: '[redacted]', sessionToken: '[redacted]' },
      nested: [{ password: '[redacted]', name: 'alice' }],
      nextToken: 'page-2',
      count: 3,
    });
    // The input itself is left alone.
    expect(input.secret).toBe('whsec_123');
  });

  it('masks credentials inside strings', () => {
    expect(redact('connecting to redis://default:s3cret@redis:6379/0')).toBe(
      'connecting to redis://default:[redacted]@redis:6379/0',
    );
    expect(redact('header Authorization: Bearer eyJhbGciOi.x.y')).toBe('header Authorization: Bearer [redacted]');
    expect(redact('POST https://hooks.example.com/in?token=abc123&x=1 failed')).toBe(
      'POST https://hooks.example.com/in?token=[redacted]&x=1 failed',
    );
  });

  it('shows a URL as scheme, host and port only: no user info, path tokens or query tokens', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('rediss://:pw@host:6380/2')).toBe('rediss://host:6380');
    expect(redactUrl('redis://user:p%40ss/word@redis:6379')).not.toMatch(/p%40ss|word/);
    expect(redactUrl('https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX')).toBe('https://hooks.slack.com');
    expect(redactUrl('https://example.com:8443/hook?token=s3cr3t#frag')).toBe('https://example.com:8443');
    expect(redactUrl('https://[::1]:9000/a/b')).toBe('https://[::1]:9000');
    expect(redactUrl('not a url, token=abc')).toBe('not a url, token=abc');
  });

  it('masks the fields of class instances too', () => {
    class Subscription {
      constructor(
        readonly url: string,
        readonly secret: string,
      ) {}
    }
    expect(redact(new Subscription('https://x', 'whsec'))).toEqual({ url: 'https://x', secret: '[redacted]' });
  });

  it('keeps errors, dates, primitives and survives cycles', () => {
    const error = new Error('boom');
    const date = new Date(0);
    expect(redact(error)).toBe(error);
    expect(redact(date)).toBe(date);
    expect(redact(42)).toBe(42);
    expect(redact(null)).toBeNull();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ name: 'a', self: '[Circular]' });
    const shared = { n: 1 };
    expect(redact({ a: shared, b: shared })).toEqual({ a: { n: 1 }, b: { n: 1 } });
  });

  it.each([
    ['secret', true],
    ['webhookSecret', true],
    ['client_secret', true],
    ['password', true],
    ['authorization', true],
    ['Proxy-Authorization', true],
    ['api_key', true],
    ['X-Api-Key', true],
    ['token', true],
    ['refresh_token', true],
    ['cookie', true],
    ['NextToken', false],
    ['tokenBucket', false],
    ['key', false],
    ['eventName', false],
  ])('%s is secret: %s', (name, secret) => {
    expect(isSecretField(name)).toBe(secret);
  });
});
