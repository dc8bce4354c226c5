import { Module } from '@nestjs/common';
import { RejectsRepository } from '@trailsight/cloudtrail';
import { APP_CONFIG, RedisService, type AppConfig } from '@trailsight/core';
import { CounterRepository } from './counters/counter.repository.js';
import { CountingBuffer } from './ingest/counting.buffer.js';
import { EventCountingService } from './ingest/event-counting.service.js';
import { EventsProcessor } from './ingest/events.processor.js';

/** The detector's consumers: the events queue into per-minute counters (needs QueueModule). */
@Module({
  providers: [
    {
      provide: CounterRepository,
      inject: [RedisService, APP_CONFIG],
      useFactory: (redis: RedisService, config: AppConfig) => new CounterRepository(redis.client, redis.keys, config),
    },
    {
      provide: CountingBuffer,
      inject: [CounterRepository],
      useFactory: (counters: CounterRepository) => new CountingBuffer(counters),
    },
    {
      provide: RejectsRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new RejectsRepository(redis.client, redis.keys),
    },
    EventCountingService,
    EventsProcessor,
  ],
  exports: [CounterRepository],
})
export class DetectionModule {}
