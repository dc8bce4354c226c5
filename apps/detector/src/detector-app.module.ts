import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule, CoreModule, type AppConfig } from '@trailsight/core';
import { DetectionModule } from '@trailsight/detection';
import { FindingsRetentionModule } from '@trailsight/findings';
import { QueueModule } from '@trailsight/queue';
import { WebhooksDeliveryModule } from '@trailsight/webhooks';

/**
 * BullMQ workers: event batches into per-minute counters, webhook deliveries; the hourly prune
 * of findings past their retention; serves only health (details behind a key).
 */
@Module({})
export class DetectorAppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DetectorAppModule,
      imports: [
        CoreModule.forRoot({ config }),
        AuthModule,
        QueueModule,
        DetectionModule,
        FindingsRetentionModule,
        WebhooksDeliveryModule,
      ],
    };
  }
}
