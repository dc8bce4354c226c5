import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health.js';
import { HealthController } from './health.controller.js';
import { healthIndicator } from './health-indicators.js';

/**
 * `GET /health` for every app, checking Redis plus whatever the app registers under
 * HEALTH_INDICATORS (see health-indicators.ts).
 */
@Module({
  imports: [TerminusModule.forRoot()],
  controllers: [HealthController],
  providers: [
    RedisHealthIndicator,
    healthIndicator((redis: RedisHealthIndicator) => () => redis.isHealthy('redis'), [RedisHealthIndicator]),
  ],
  exports: [TerminusModule, RedisHealthIndicator],
})
export class HealthModule {}
