import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';

/** One answer serves every readiness probe for this long: a probe storm costs one PING a second. */
const CACHE_MS = 1_000;
/** A probe must answer quickly even when Redis does not. */
const PING_TIMEOUT_MS = 1_000;

/**
 * `GET /health/ready`: is Redis reachable? One PING (no INFO, no queue or evaluator reads),
 * shared by the probes of the next second. Everything else the process needs lives in Redis, so
 * without it the process can serve nothing; with it, it can.
 */
@Injectable()
export class ReadinessProbe {
  private cached?: { untilMs: number; answer: Promise<boolean> };

  constructor(private readonly redis: RedisService) {}

  ready(nowMs = Date.now()): Promise<boolean> {
    if (this.cached && this.cached.untilMs > nowMs) return this.cached.answer;
    const answer = this.ping();
    this.cached = { untilMs: nowMs + CACHE_MS, answer };
    return answer;
  }

  private async ping(): Promise<boolean> {
    const client = this.redis.client;
    if (client.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    try {
      return await Promise.race([
        client.ping().then(
          () => true,
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
