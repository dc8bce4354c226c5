import { createHmac, randomBytes } from 'node:crypto';
import type { HistoryCursor } from './simulated-account.js';

/** What a LookupEvents NextToken carries: the range frozen at the first page, and where to go on. */
export interface NextTokenState {
  startMs: number;
  endMs: number;
  cursor: HistoryCursor;
}

/**
 * Opaque NextTokens: the state as base64url JSON plus an HMAC over it and the request's
 * parameters ("binding"). A token replayed with other parameters, edited, or from another
 * simulator process fails to verify, which is AWS's InvalidNextTokenException case.
 */
export class NextTokenCodec {
  constructor(private readonly secret: Buffer = randomBytes(32)) {}

  encode(binding: string, state: NextTokenState): string {
    const payload = Buffer.from(JSON.stringify([state.startMs, state.endMs, state.cursor.t, state.cursor.id])).toString(
      'base64url',
    );
    return `${payload}.${this.sign(binding, payload)}`;
  }

  /** The state, or undefined when the token is not one this codec made for these parameters. */
  decode(binding: string, token: string): NextTokenState | undefined {
    const dot = token.indexOf('.');
    if (dot < 0) return undefined;
    const payload = token.slice(0, dot);
    if (token.slice(dot + 1) !== this.sign(binding, payload)) return undefined;
    try {
      const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      if (!Array.isArray(value) || value.length !== 4) return undefined;
      const [startMs, endMs, t, id] = value as unknown[];
      if (typeof startMs !== 'number' || typeof endMs !== 'number' || typeof t !== 'number' || typeof id !== 'string') {
        return undefined;
      }
      return { startMs, endMs, cursor: { t, id } };
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
