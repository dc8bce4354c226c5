import { Module } from '@nestjs/common';
import { APP_CONFIG, RedisService, type AppConfig, redisRepository } from '@trailsight/core';
import { CounterRepository } from '../counters/counter.repository.js';
import { TrackedApisRepository } from './tracked-apis.repository.js';
import { TrackedApisController } from './tracked-apis.controller.js';
import { TRACKED_APIS_CLOCK, TrackedApisService } from './tracked-apis.service.js';

/** `GET /v1/apis` over the per-minute counters; no workers (safe in the api process). */
@Module({
  controllers: [TrackedApisController],
  providers: [
    {
      provide: CounterRepository,
      inject: [RedisService, APP_CONFIG],
      useFactory: (redis: RedisService, config: AppConfig) => new CounterRepository(redis.client, redis.keys, config),
    },
    redisRepository(TrackedApisRepository),
    { provide: TRACKED_APIS_CLOCK, useValue: () => Date.now() },
    TrackedApisService,
  ],
})
export class TrackedApisModule {}
