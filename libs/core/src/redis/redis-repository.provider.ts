import type { FactoryProvider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { KeySpace } from './key-space.js';
import { RedisService } from './redis.service.js';

/** A repository built from the shared command connection and the deployment's key space. */
export type RedisRepositoryType<T> = new (redis: Redis, keys: KeySpace) => T;

/** The Nest provider of such a repository: `providers: [redisRepository(CheckpointRepository)]`. */
export function redisRepository<T>(type: RedisRepositoryType<T>): FactoryProvider<T> {
  return {
    provide: type,
    inject: [RedisService],
    useFactory: (redis: RedisService) => new type(redis.client, redis.keys),
  };
}
