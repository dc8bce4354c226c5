import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health.js';
import { HealthController } from './health.controller.js';
import { healthIndicator } from './health-indicators.js';
import { ReadinessProbe } from './readiness.probe.js';

/**
 * Health for every app: public `/health/live` and `/health/ready` (up or down), and `/health`
 * (read scope where the app has AuthModule) checking Redis plus whatever the app registers under
 * HEALTH_INDICATORS (see health-indicators.ts).
 */
@Module({
  imports: [TerminusModule.forRoot()],
  controllers: [HealthController],
  providers: [
    RedisHealthIndicator,
    ReadinessProbe,
    healthIndicator((redis: RedisHealthIndicator) => () => redis.isHealthy('redis'), [RedisHealthIndicator]),
  ],
  exports: [TerminusModule, RedisHealthIndicator],
})
export class HealthModule {}
