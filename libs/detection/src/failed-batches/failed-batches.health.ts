import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { FailedBatchesRepository } from './failed-batches.repository.js';

/** A health check must answer quickly even when Redis does not. */
const CHECK_TIMEOUT_MS = 1_500;

/**
 * Health of event counting (registered under the key `eventBatches`): down while any event batch
 * has failed every attempt, naming the account-regions whose evaluation waits for it and how to
 * retry. Reads one small hash; pluggable into any health route through HEALTH_INDICATORS.
 */
@Injectable()
export class FailedBatchesHealthIndicator {
  constructor(
    private readonly failed: FailedBatchesRepository,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    return this.health
      .check(key)
      .attempt(async () => {
        const holds = await this.failed.holds();
        if (holds.size === 0) return { failedBatches: 0 };
        let batches = 0;
        let events = 0;
        const held: string[] = [];
        for (const [source, hold] of holds) {
          batches += hold.batches;
          events += hold.events;
          held.push(`${source} from ${new Date(hold.firstMinute).toISOString()}`);
        }
        throw new Error(
          `${batches} event batches (${events} events) failed every attempt and are not counted; ` +
            `evaluation is held for ${held.join(', ')}. See GET /v1/ingest/failed; retry with POST /v1/ingest/failed/retry`,
        );
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }
}
