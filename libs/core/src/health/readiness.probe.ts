import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { registrations } from '../di/registrations.js';
import { RedisService } from '../redis/redis.service.js';
import { READINESS_CHECKS, type ReadinessCheck } from './health-indicators.js';

/** One answer serves every readiness probe for this long: a probe storm costs one PING a second. */
const CACHE_MS = 1_000;
/** A probe must answer quickly even when Redis does not. */
const PING_TIMEOUT_MS = 1_000;

/**
 * `GET /health/ready`: is Redis reachable, and is this process's own work running (its
 * READINESS_CHECKS: queue workers, polling loops)? One PING (no INFO, no queue or evaluator
 * reads), shared by the probes of the next second; the checks read in-process state only.
 * Everything else the process needs lives in Redis, so without it the process can serve nothing.
 */
@Injectable()
export class ReadinessProbe implements OnApplicationBootstrap {
  private cached?: { untilMs: number; answer: Promise<boolean> };
  private checks: ReadinessCheck[] = [];

  constructor(
    private readonly redis: RedisService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    this.checks = registrations<ReadinessCheck>(this.moduleRef, READINESS_CHECKS);
  }

  ready(nowMs = Date.now()): Promise<boolean> {
    if (!this.checks.every((running) => running())) return Promise.resolve(false);
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
