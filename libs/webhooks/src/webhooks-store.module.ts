import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, ProcessMetrics, redisRepository, SecretsCipher } from '@trailsight/core';
import { WebhookHttpClient } from './delivery/webhook-http.client.js';
import { WebhookSender } from './delivery/webhook.sender.js';
import { WebhookUrlGuard } from './safety/webhook-url.guard.js';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository.js';
import { WebhookSecretsAtRest } from './subscriptions/webhook-secrets-at-rest.js';

/** What both sides share: the subscriptions store, the URL guard and the signed sender. */
@Module({
  providers: [
    redisRepository(SubscriptionsRepository, (config) => ({
      cipher: config.secretsKey && new SecretsCipher(config.secretsKey),
    })),
    WebhookSecretsAtRest,
    {
      provide: WebhookUrlGuard,
      inject: [APP_CONFIG],
      // Tests swap the resolver with overrideProvider(WebhookUrlGuard).
      useFactory: (config: AppConfig) =>
        new WebhookUrlGuard({ allowPrivate: config.webhookAllowPrivate, allowedPorts: config.webhookAllowedPorts }),
    },
    {
      provide: WebhookHttpClient,
      inject: [WebhookUrlGuard],
      useFactory: (guard: WebhookUrlGuard) => new WebhookHttpClient(guard),
    },
    {
      provide: WebhookSender,
      inject: [WebhookHttpClient, SubscriptionsRepository, APP_CONFIG, ProcessMetrics],
      useFactory: (
        http: WebhookHttpClient,
        subscriptions: SubscriptionsRepository,
        config: AppConfig,
        metrics: ProcessMetrics,
      ) =>
        new WebhookSender(http, subscriptions, {
          timeoutMs: config.webhookTimeoutMs,
          logSize: config.webhookLogSize,
          latency: metrics.webhookDeliveryDuration,
        }),
    },
  ],
  exports: [SubscriptionsRepository, WebhookUrlGuard, WebhookHttpClient, WebhookSender],
})
export class WebhooksStoreModule {}
