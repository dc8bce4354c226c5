import { Module, type DynamicModule } from '@nestjs/common';
import { ApiKeysModule, AuthModule, CoreModule, MetricsModule, type AppConfig } from '@trailsight/core';
import {
  EvaluationStatusModule,
  FailedBatchesModule,
  SeriesApiModule,
  TrackedApisModule,
  TuningModule,
} from '@trailsight/detection';
import { FindingsApiModule } from '@trailsight/findings';
import { QueueModule, QueueOpsModule } from '@trailsight/queue';
import { WebhooksApiModule } from '@trailsight/webhooks';

/** HTTP only: health, metrics, Swagger and the /v1 routes (findings, tracked APIs, webhooks). */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot({ config }),
        QueueModule,
        QueueOpsModule,
        AuthModule,
        ApiKeysModule,
        MetricsModule,
        FindingsApiModule,
        TrackedApisModule,
        SeriesApiModule,
        TuningModule,
        EvaluationStatusModule,
        FailedBatchesModule,
        WebhooksApiModule,
      ],
    };
  }
}
