import { Module } from '@nestjs/common';
import { APP_CONFIG, metricCollector, type AppConfig } from '@trailsight/core';
import { enabledOutputs, FindingsModule, InsightOutboxRepository } from '@trailsight/findings';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository.js';
import { WebhooksController } from './subscriptions/webhooks.controller.js';
import { WebhooksService } from './subscriptions/webhooks.service.js';
import { WebhooksStoreModule } from './webhooks-store.module.js';

/** The api process's side: /v1/webhooks routes and delivery metrics (webhooks and the S3/EventBridge outputs). Consumes no deliveries. */
@Module({
  imports: [WebhooksStoreModule, FindingsModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    metricCollector(
      (subscriptions: SubscriptionsRepository, outbox: InsightOutboxRepository, config: AppConfig) => async () => {
        const { attempts, givenUp } = await subscriptions.totals();
        const outputs = await Promise.all(
          enabledOutputs(config).map(async (output) => ({ output, ...(await outbox.stats(output)) })),
        );
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
          {
            name: 'trailsight_insight_output_records_total',
            help: 'Insights records sent by the S3 and EventBridge outputs, by outcome (failed: refused on every attempt), cluster-wide.',
            type: 'counter',
            samples: outputs.flatMap(({ output, delivered, failed }) => [
              { labels: { output, outcome: 'delivered' }, value: delivered },
              { labels: { output, outcome: 'failed' }, value: failed },
            ]),
          },
          {
            name: 'trailsight_insight_output_pending',
            help: "Insights records waiting in an output's outbox.",
            type: 'gauge',
            samples: outputs.map(({ output, pending }) => ({ labels: { output }, value: pending })),
          },
        ];
      },
      [SubscriptionsRepository, InsightOutboxRepository, APP_CONFIG],
    ),
  ],
  exports: [WebhooksService],
})
export class WebhooksApiModule {}
