import { Global, Module } from '@nestjs/common';
import { FindingsModule, INSIGHT_LISTENER } from '@trailsight/findings';
import { InsightNotifier } from './delivery/insight-notifier.js';
import { WebhookDeliveryService } from './delivery/webhook-delivery.service.js';
import { WebhooksProcessor } from './delivery/webhooks.processor.js';
import { InsightOutputsService } from './outputs/insight-outputs.service.js';
import { WebhooksStoreModule } from './webhooks-store.module.js';

/**
 * The detector's side: InsightNotifier (what the evaluator calls), the delivery worker on
 * the webhooks queue, and the optional S3 and EventBridge outputs' flushers. Needs QueueModule (which registers the queue) in the app. Global, so the
 * evaluator (DetectionModule) finds the notifier as its INSIGHT_LISTENER without importing webhooks.
 */
@Global()
@Module({
  imports: [WebhooksStoreModule, FindingsModule],
  providers: [
    InsightNotifier,
    WebhookDeliveryService,
    WebhooksProcessor,
    InsightOutputsService,
    { provide: INSIGHT_LISTENER, useExisting: InsightNotifier },
  ],
  exports: [InsightNotifier, INSIGHT_LISTENER],
})
export class WebhooksDeliveryModule {}
