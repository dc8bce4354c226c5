import { Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { ApiKeyStore } from './api-key.store.js';
import { ApiKeysController } from './api-keys.controller.js';
import { bootstrapAdminKey } from './bootstrap-key.js';

/**
 * `/v1/keys` (create, list, revoke) and, without API_KEYS, the deployment's first admin key,
 * written to ADMIN_KEY_FILE. Only apps that serve the API import it. Needs AuthModule.
 */
@Module({ controllers: [ApiKeysController] })
export class ApiKeysModule implements OnApplicationBootstrap {
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
    await bootstrapAdminKey(
      this.store,
      this.config.adminKeyFile,
      this.logger,
      `http://localhost:${this.config.port}/console`,
    );
  }
}
