import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, type AppConfig } from '@trailsight/core';
import { DetectionModule } from '@trailsight/detection';
import { QueueModule } from '@trailsight/queue';
import { WebhooksDeliveryModule } from '@trailsight/webhooks';

/** BullMQ workers: event batches into per-minute counters, webhook deliveries; serves only /health. */
@Module({})
export class DetectorAppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DetectorAppModule,
      imports: [CoreModule.forRoot({ config }), QueueModule, DetectionModule, WebhooksDeliveryModule],
    };
  }
}
