import { Controller, Get, Header, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { registrations } from '../di/registrations.js';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/require-scope.decorator.js';
import { ApiKeyErrorResponses } from '../errors/api-error-responses.js';
import { familiesRegistry } from './cluster-metrics.js';
import { METRIC_COLLECTORS, type MetricCollector } from './metric-collectors.js';
import { ProcessMetrics } from './process-metrics.js';
import { Registry } from 'prom-client';

/**
 * `GET /metrics` on every process: this process's own metrics (Node and process defaults, build
 * info, latency histograms), then whatever collectors the app registers (the api's cluster-wide
 * figures from Redis). Prometheus text format 0.0.4. Needs a read key.
 */
@ApiTags('operations')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('read')
@Controller('metrics')
export class MetricsController implements OnApplicationBootstrap {
  private collectors: MetricCollector[] = [];

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly process: ProcessMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.collectors = registrations<MetricCollector>(this.moduleRef, METRIC_COLLECTORS);
  }

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format 0.0.4)' })
  @ApiOkResponse({
    description: 'Prometheus text format',
    content: { 'text/plain': { schema: { type: 'string', example: 'trailsight_insights_open 3\n' } } },
  })
  async metrics(): Promise<string> {
    const families = await Promise.all(this.collectors.map((collect) => collect()));
    const own = await this.process.registry.metrics();
    return families.length === 0 ? own : `${own}\n${await familiesRegistry(families.flat()).metrics()}`;
  }
}
