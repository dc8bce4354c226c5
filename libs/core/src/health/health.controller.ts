import { Controller, Get, Res, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { registrations } from '../di/registrations.js';
import {
  HealthCheck,
  HealthCheckService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyErrorResponses } from '../errors/api-error-responses.js';
import { PublicRoute, RequireScope } from '../auth/require-scope.decorator.js';
import { HEALTH_INDICATORS, type HealthIndicatorRegistration } from './health-indicators.js';
import { ReadinessProbe } from './readiness.probe.js';

/** Express's response and Fastify's reply both set the status with status(). */
interface HttpResponse {
  status(code: number): unknown;
}

interface ProbeAnswer {
  status: 'up' | 'down';
}

/**
 * Health. `/health/live` and `/health/ready` are public and answer up or down only (for
 * orchestrators and load balancers; nothing about accounts, memory or queues). `/health` runs
 * every registered check and shows the details: 200 when all are up, 503 with the failing ones
 * otherwise; it needs a read key.
 */
@ApiTags('health')
@Controller('health')
export class HealthController implements OnApplicationBootstrap {
  private indicators: HealthIndicatorFunction[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessProbe,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    // Every module's HEALTH_INDICATORS registration, not just the nearest one.
    this.indicators = registrations<HealthIndicatorRegistration>(this.moduleRef, HEALTH_INDICATORS).flat();
  }

  @Get('live')
  @PublicRoute()
  @ApiOperation({ summary: 'Liveness: the process answers HTTP (public)' })
  @ApiOkResponse({ schema: { example: { status: 'up' } } })
  live(): ProbeAnswer {
    return { status: 'up' };
  }

  @Get('ready')
  @PublicRoute()
  @ApiOperation({ summary: 'Readiness: Redis is reachable (public; one PING, shared for a second)' })
  @ApiOkResponse({ schema: { example: { status: 'up' } } })
  @ApiServiceUnavailableResponse({ schema: { example: { status: 'down' } } })
  async ready(@Res({ passthrough: true }) response: HttpResponse): Promise<ProbeAnswer> {
    if (await this.readiness.ready()) return { status: 'up' };
    response.status(503);
    return { status: 'down' };
  }

  @Get()
  @RequireScope('read')
  @ApiBearerAuth('api-key')
  @ApiSecurity('x-api-key')
  @ApiOperation({ summary: 'Every check with its details: Redis, queues, evaluator (read scope)' })
  @ApiKeyErrorResponses()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check(this.indicators);
  }
}
