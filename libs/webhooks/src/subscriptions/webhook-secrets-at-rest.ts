import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SubscriptionsRepository } from './subscriptions.repository.js';

/**
 * At boot of every process that handles webhook secrets (api, detector): with SECRETS_KEY,
 * encrypts the secrets still stored in plaintext (the migration; replicas may race, each secret
 * moves once); without it, warns loudly that secrets sit in Redis in plaintext.
 */
@Injectable()
export class WebhookSecretsAtRest implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookSecretsAtRest.name);

  constructor(private readonly subscriptions: SubscriptionsRepository) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.subscriptions.encryptsSecrets) {
      this.logger.warn(
        'SECRETS_KEY is not set: webhook signing secrets are stored in Redis in PLAINTEXT. ' +
          'Set SECRETS_KEY to 32 random bytes (`openssl rand -base64 32`) to encrypt them at rest.',
      );
      return;
    }
    try {
      const moved = await this.subscriptions.encryptPlaintextSecrets();
      if (moved > 0) this.logger.log(`encrypted ${moved} webhook secret(s) stored in plaintext under SECRETS_KEY`);
    } catch (error) {
      // Redis down at boot: the next boot, or the next change of each subscription, encrypts them.
      this.logger.warn(`could not encrypt plaintext webhook secrets now: ${(error as Error).message}`);
    }
  }
}
