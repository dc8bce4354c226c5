import { Controller, Get, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  HealthCheck,
  HealthCheckService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { ApiTags } from '@nestjs/swagger';
import { PublicRoute } from '../auth/require-scope.decorator.js';
import { HEALTH_INDICATORS, type HealthIndicatorRegistration } from './health-indicators.js';

/** `GET /health`: 200 when every registered check is up, 503 with the failing ones otherwise. */
@ApiTags('health')
@PublicRoute()
@Controller('health')
export class HealthController implements OnApplicationBootstrap {
  private indicators: HealthIndicatorFunction[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    // Every module's HEALTH_INDICATORS registration, not just the nearest one.
    const registrations = this.moduleRef.get<HealthIndicatorRegistration>(HEALTH_INDICATORS, {
      strict: false,
      each: true,
    });
    this.indicators = registrations.flat();
  }

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check(this.indicators);
  }
}
