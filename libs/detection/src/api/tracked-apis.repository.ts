import type { AccountRegion } from '@trailsight/domain';
import type { KeySpace, RedisClient } from '@trailsight/core';

/** The evaluator's latest verdict of one series (KeySpace.trackedSeries), as far as GET /v1/apis reads it. */
export interface StoredVerdict {
  minute: number;
  value: number;
  expected?: number;
  lower?: number;
  upper?: number;
  baselineAverage: number;
  warmingUp?: boolean;
  openFindingId?: string | null;
}

/** Reads for GET /v1/apis: the account-regions seen and the evaluator's per-series verdicts. */
export class TrackedApisRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  async sources(): Promise<AccountRegion[]> {
    return (await this.redis.smembers(this.keys.sources())).sort().map((source) => {
      const colon = source.indexOf(':');
      return { accountId: source.slice(0, colon), region: source.slice(colon + 1) };
    });
  }

  /** Series field -> latest verdict; empty while no evaluator has run for the account-region. */
  async verdicts(source: AccountRegion): Promise<Map<string, StoredVerdict>> {
    const hash = await this.redis.hgetall(this.keys.trackedSeries(source));
    const verdicts = new Map<string, StoredVerdict>();
    for (const [field, json] of Object.entries(hash)) {
      try {
        const verdict = JSON.parse(json) as StoredVerdict;
        if (Number.isFinite(verdict.minute) && Number.isFinite(verdict.value)) verdicts.set(field, verdict);
      } catch {
        // A verdict this version cannot read is left out rather than failing the listing.
      }
    }
    return verdicts;
  }
}
