import { Global, Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { AppConfig } from './config/app-config.js';
import { TrailsightConfigModule } from './config/config.module.js';
import { AllExceptionsFilter } from './errors/all-exceptions.filter.js';
import { HealthModule } from './health/health.module.js';
import { RedisModule } from './redis/redis.module.js';

export interface CoreModuleOptions {
  /** The validated configuration; read from the environment when absent. */
  config?: AppConfig;
}

/**
 * The one import every app makes: APP_CONFIG, RedisService, SchedulerRegistry, the global
 * exception filter and `GET /health` (Redis plus any HEALTH_INDICATORS the app registers).
 *
 *   const config = loadConfig();
 *   @Module({ imports: [CoreModule.forRoot({ config }), QueueModule, ...] })
 *   const app = await NestFactory.create(AppModule, { logger: createLogger(config) });
 *   app.enableShutdownHooks(); // SIGTERM closes workers, then Redis connections
 *   await app.listen(config.port);
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions = {}): DynamicModule {
    return {
      module: CoreModule,
      // ScheduleModule: per-process timers (SchedulerRegistry); cluster-wide work uses BullMQ job schedulers.
      imports: [TrailsightConfigModule.forRoot(options.config), RedisModule, HealthModule, ScheduleModule.forRoot()],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // One validation pipe for every route: unknown fields are errors, values arrive typed.
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
      exports: [TrailsightConfigModule, RedisModule, HealthModule],
    };
  }
}
