import { Global, Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config/app-config.js';
import { APP_CONFIG } from './config/config.tokens.js';
import { TrailsightConfigModule } from './config/config.module.js';
import { AllExceptionsFilter } from './errors/all-exceptions.filter.js';
import { HealthModule } from './health/health.module.js';
import { loggerParams } from './logging/app.logger.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { ProcessMetrics } from './metrics/process-metrics.js';
import { RedisModule } from './redis/redis.module.js';

export interface CoreModuleOptions {
  /** The validated configuration; read from the environment when absent. */
  config?: AppConfig;
}

/**
 * The one import every app makes: APP_CONFIG, RedisService, SchedulerRegistry, the global
 * exception filter, `GET /health` (Redis plus any HEALTH_INDICATORS the app registers) and
 * `GET /metrics` (ProcessMetrics plus any METRIC_COLLECTORS the app registers).
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
      imports: [
        TrailsightConfigModule.forRoot(options.config),
        // Request logs with request ids; serveApp makes its Logger the app's logger.
        LoggerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: (config: AppConfig) => loggerParams(config) }),
        RedisModule,
        HealthModule,
        ScheduleModule.forRoot(),
      ],
      controllers: [MetricsController],
      providers: [
        ProcessMetrics,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // One validation pipe for every route: unknown fields are errors, values arrive typed.
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
      exports: [TrailsightConfigModule, RedisModule, HealthModule, ProcessMetrics],
    };
  }
}
