import { Module, type DynamicModule } from '@nestjs/common';
import { SourcesModule } from '@trailsight/cloudtrail';
import { ApiKeysModule, AuthModule, CoreModule, MetricsModule, type AppConfig } from '@trailsight/core';
import {
  DetectionModule,
  EvaluationStatusModule,
  FailedBatchesModule,
  TrackedApisModule,
  TuningModule,
} from '@trailsight/detection';
import { FindingsApiModule, FindingsRetentionModule } from '@trailsight/findings';
import { QueueModule, QueueOpsModule } from '@trailsight/queue';
import { WebhooksModule } from '@trailsight/webhooks';

/** `npm start`: api + poller + detector in one process, for the single-machine default. */
@Module({})
export class TrailsightModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: TrailsightModule,
      imports: [
        CoreModule.forRoot({ config }),
        QueueModule,
        SourcesModule,
        DetectionModule,
        FindingsRetentionModule,
        QueueOpsModule,
        AuthModule,
        ApiKeysModule,
        MetricsModule,
        FindingsApiModule,
        TrackedApisModule,
        TuningModule,
        EvaluationStatusModule,
        FailedBatchesModule,
        WebhooksModule,
      ],
    };
  }
}
