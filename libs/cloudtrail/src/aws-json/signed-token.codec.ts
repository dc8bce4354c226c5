import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque NextTokens for AWS-style paging: a JSON state as base64url plus an HMAC over it and the
 * request's parameters ("binding"). A token replayed with other parameters, edited, or made with
 * another secret fails to verify: AWS's InvalidNextTokenException case.
 */
export class SignedTokenCodec {
  constructor(private readonly secret: Buffer = randomBytes(32)) {}

  encode(binding: string, state: unknown): string {
    const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
    return `${payload}.${this.sign(binding, payload)}`;
  }

  /** The state this codec encoded for these parameters, or undefined for any other token. */
  decode(binding: string, token: string): unknown {
    const dot = token.indexOf('.');
    if (dot < 0) return undefined;
    const payload = token.slice(0, dot);
    const presented = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(binding, payload));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  private sign(binding: string, payload: string): string {
    return createHmac('sha256', this.secret)
      .update(binding)
      .update('\n')
      .update(payload)
      .digest('base64url')
      .slice(0, 22);
  }
}
