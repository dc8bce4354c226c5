import { SignedTokenCodec } from '@trailsight/cloudtrail';
import type { HistoryCursor } from './simulated-account.js';

/** What a LookupEvents NextToken carries: the range frozen at the first page, and where to go on. */
export interface NextTokenState {
  startMs: number;
  endMs: number;
  cursor: HistoryCursor;
}

/** The simulator's NextTokens: its paging state in a SignedTokenCodec token. */
export class NextTokenCodec {
  constructor(private readonly codec = new SignedTokenCodec()) {}

  encode(binding: string, state: NextTokenState): string {
    return this.codec.encode(binding, [state.startMs, state.endMs, state.cursor.t, state.cursor.id]);
  }

  /** The state, or undefined when the token is not one this codec made for these parameters. */
  decode(binding: string, token: string): NextTokenState | undefined {
    const value = this.codec.decode(binding, token);
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [startMs, endMs, t, id] = value as unknown[];
    if (typeof startMs !== 'number' || typeof endMs !== 'number' || typeof t !== 'number' || typeof id !== 'string') {
      return undefined;
    }
    return { startMs, endMs, cursor: { t, id } };
  }
}
