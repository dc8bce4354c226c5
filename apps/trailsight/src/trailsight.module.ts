import { Module, type DynamicModule } from '@nestjs/common';
import { PollerModule } from '@trailsight/cloudtrail';
import { CoreModule, type AppConfig } from '@trailsight/core';
import { DetectionModule } from '@trailsight/detection';
import { QueueModule } from '@trailsight/queue';

/** `npm start`: api + poller + detector in one process, for the single-machine default. */
@Module({})
export class TrailsightModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: TrailsightModule,
      imports: [CoreModule.forRoot({ config }), QueueModule, PollerModule, DetectionModule],
    };
  }
}
