import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, type AppConfig } from '@trailsight/core';

/** HTTP only: health, Swagger and (in later modules) findings, series and webhooks. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ApiModule, imports: [CoreModule.forRoot({ config })] };
  }
}
