import { Global, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { redisRepository } from '../redis/redis-repository.provider.js';
import { AddressLimiter } from './address-limiter.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyStore } from './api-key.store.js';
import { migrateApiKeyNames } from './bootstrap-key.js';
import { AuthStats } from './auth.stats.js';
import { RateLimiter } from './rate-limiter.repository.js';
import { SecretsCipher } from '../secrets/secrets-cipher.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * API keys for every HTTP route of the app that imports it: the global ApiKeyGuard (APP_GUARD),
 * the key store (listening for revocations), the per-key rate limiter and the per-address limit
 * on unknown keys. The /v1/keys routes and the first admin key are ApiKeysModule's.
 */
@Global()
@Module({
  providers: [
    AuthStats,
    redisRepository(ApiKeyStore, (config) => ({
      configured: config.apiKeys,
      cipher: config.secretsKey && new SecretsCipher(config.secretsKey),
    })),
    redisRepository(RateLimiter, (config) => ({
      limit: config.apiRateLimit,
      windowSeconds: config.apiRateWindowSeconds,
    })),
    {
      provide: AddressLimiter,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new AddressLimiter(config.apiAuthFailureLimit),
    },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [ApiKeyStore, RateLimiter, AddressLimiter, AuthStats],
})
export class AuthModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ApiKeys');

  constructor(private readonly store: ApiKeyStore) {}

  async onApplicationBootstrap(): Promise<void> {
    await migrateApiKeyNames(this.store, this.logger);
    this.store.listenForRevocations();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
