import { Global, Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { redisRepository } from '../redis/redis-repository.provider.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeyStore } from './api-key.store.js';
import { AuthStats } from './auth.stats.js';
import { RateLimiter } from './rate-limiter.repository.js';

/**
 * API keys for every HTTP route of the app that imports it: the global ApiKeyGuard (APP_GUARD),
 * the key store and the per-key rate limiter. Without API_KEYS, the first start of a deployment
 * creates an admin key and prints it once.
 */
@Global()
@Module({
  controllers: [ApiKeysController],
  providers: [
    AuthStats,
    redisRepository(ApiKeyStore, (config) => config.apiKeys),
    redisRepository(RateLimiter, (config) => ({
      limit: config.apiRateLimit,
      windowSeconds: config.apiRateWindowSeconds,
    })),
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [ApiKeyStore, RateLimiter, AuthStats],
})
export class AuthModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiKeys');

  constructor(
    private readonly store: ApiKeyStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.store.fromConfig) {
      this.logger.log(`${this.config.apiKeys.length} API key(s) from API_KEYS`);
      return;
    }
    const created = await this.store.ensureBootstrapKey();
    if (created) {
      // The one time this key exists in clear: Redis holds only its sha256.
      this.logger.warn(
        `API_KEYS is not set: created an admin API key (id ${created.keyId}), shown only this once: ${created.key}`,
      );
    } else {
      this.logger.log('API keys from Redis (API_KEYS is not set)');
    }
  }
}
