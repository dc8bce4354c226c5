import { Module, type DynamicModule } from '@nestjs/common';
import { SourcesModule } from '@trailsight/cloudtrail';
import { AuthModule, CoreModule, type AppConfig } from '@trailsight/core';
import { QueueModule } from '@trailsight/queue';

/** Reads the configured sources and enqueues event batches; serves only health (details behind a key). */
@Module({})
export class PollerAppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: PollerAppModule,
      imports: [CoreModule.forRoot({ config }), AuthModule, QueueModule, SourcesModule],
    };
  }
}
