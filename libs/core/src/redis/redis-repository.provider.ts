import type { FactoryProvider } from '@nestjs/common';
import type { RedisClient } from './redis-connection.factory.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import type { KeySpace } from './key-space.js';
import { RedisService } from './redis.service.js';

/** A repository built from the shared command connection and the deployment's key space. */
export type RedisRepositoryType<T> = new (redis: RedisClient, keys: KeySpace) => T;
/** The same, with settings taken from the configuration. */
export type ConfiguredRedisRepositoryType<T, S> = new (redis: RedisClient, keys: KeySpace, settings: S) => T;

/**
 * The one way a Redis repository is provided:
 * `providers: [redisRepository(CheckpointRepository)]`, or with settings from the configuration,
 * `redisRepository(FindingsRepository, (config) => ({ retentionDays: config.findingsRetentionDays }))`.
 */
export function redisRepository<T>(type: RedisRepositoryType<T>): FactoryProvider<T>;
export function redisRepository<T, S>(
  type: ConfiguredRedisRepositoryType<T, S>,
  settings: (config: AppConfig) => S,
): FactoryProvider<T>;
export function redisRepository<T, S>(
  type: ConfiguredRedisRepositoryType<T, S | undefined>,
  settings?: (config: AppConfig) => S,
): FactoryProvider<T> {
  return {
    provide: type,
    inject: [RedisService, APP_CONFIG],
    useFactory: (redis: RedisService, config: AppConfig) => new type(redis.client, redis.keys, settings?.(config)),
  };
}
