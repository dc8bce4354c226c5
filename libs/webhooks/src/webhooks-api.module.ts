import { Module } from '@nestjs/common';
import { metricCollector } from '@trailsight/core';
import { FindingsModule } from '@trailsight/findings';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository.js';
import { WebhooksController } from './subscriptions/webhooks.controller.js';
import { WebhooksService } from './subscriptions/webhooks.service.js';
import { WebhooksStoreModule } from './webhooks-store.module.js';

/** The api process's side: /v1/webhooks routes and delivery metrics. Consumes no deliveries. */
@Module({
  imports: [WebhooksStoreModule, FindingsModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    metricCollector(
      (subscriptions: SubscriptionsRepository) => async () => {
        const { attempts, givenUp } = await subscriptions.totals();
        return [
          {
            name: 'trailsight_webhook_delivery_attempts_total',
            help: 'Webhook delivery attempts by outcome (test pings included), cluster-wide.',
            type: 'counter',
            samples: Object.entries(attempts).map(([outcome, value]) => ({ labels: { outcome }, value })),
          },
          {
            name: 'trailsight_webhook_deliveries_given_up_total',
            help: 'Webhook deliveries whose last attempt failed: nothing more is tried.',
            type: 'counter',
            samples: [{ value: givenUp }],
          },
        ];
      },
      [SubscriptionsRepository],
    ),
  ],
  exports: [WebhooksService],
})
export class WebhooksApiModule {}
