import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisService } from './redis.service.js';

/** A health check must answer quickly even when Redis does not. */
const PING_TIMEOUT_MS = 1_000;

/**
 * Redis is up when the shared command connection answers PING in time. The details carry
 * memory use and the eviction policy, since BullMQ and the counters need `noeviction`.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisService,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'redis'>(
    key: Key = 'redis' as Key,
    timeoutMs = PING_TIMEOUT_MS,
  ): Promise<HealthIndicatorResult<Key>> {
    return await this.health
      .check(key)
      .attempt(async () => {
        const client = this.redis.client;
        if (client.status !== 'ready') throw new Error(`not connected (${client.status})`);
        await client.ping();
        const info = parseInfo(await client.info('memory'));
        const policy = info.get('maxmemory_policy') ?? 'unknown';
        return {
          used_memory: Number(info.get('used_memory')),
          used_memory_human: info.get('used_memory_human'),
          maxmemory: Number(info.get('maxmemory')),
          maxmemory_policy: policy,
          ...(policy !== 'noeviction' && {
            warning: 'maxmemory-policy should be noeviction: Redis may drop queued jobs',
          }),
        };
      })
      .withTimeout(timeoutMs);
  }
}

/** INFO's `field:value` lines. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}
