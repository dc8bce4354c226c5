import { Global, Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { Logger as NestPinoLogger, PARAMS_PROVIDER_TOKEN, PinoLogger } from 'nestjs-pino';
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
      imports: [TrailsightConfigModule.forRoot(options.config), RedisModule, HealthModule, ScheduleModule.forRoot()],
      controllers: [MetricsController],
      providers: [
        ProcessMetrics,
        // nestjs-pino's loggers on the app's pino settings, without its LoggerModule: that one mounts
        // a middleware, which under Fastify runs through middie on every request (request-logs.ts
        // does the same work from a Fastify hook). serveApp makes the Logger the app's logger.
        {
          provide: PARAMS_PROVIDER_TOKEN,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => loggerParams(config),
        },
        PinoLogger,
        NestPinoLogger,
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
