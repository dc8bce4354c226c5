import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from './app-config.js';
import { loadConfig } from './config.loader.js';
import { APP_CONFIG } from './config.tokens.js';

/**
 * Provides the validated AppConfig under APP_CONFIG to every module. Without an argument the
 * environment is read here, so a wrong value stops the process before anything starts.
 * (Named to stay clear of @nestjs/config's ConfigModule.)
 */
@Global()
@Module({})
export class TrailsightConfigModule {
  static forRoot(config: AppConfig = loadConfig()): DynamicModule {
    return {
      module: TrailsightConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
