import { Controller, Get, Header, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/require-scope.decorator.js';
import { ApiKeyErrorResponses } from '../errors/api-error-responses.js';
import { METRIC_COLLECTORS, type MetricCollector } from './metric-collectors.js';
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from './prometheus.format.js';

/** `GET /metrics`: every registered collector, in Prometheus text format. Needs a read key. */
@ApiTags('operations')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('read')
@Controller('metrics')
export class MetricsController implements OnApplicationBootstrap {
  private collectors: MetricCollector[] = [];

  constructor(private readonly moduleRef: ModuleRef) {}

  onApplicationBootstrap(): void {
    this.collectors = this.moduleRef.get<MetricCollector>(METRIC_COLLECTORS, { strict: false, each: true });
  }

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format 0.0.4)' })
  @ApiOkResponse({
    description: 'Prometheus text format',
    content: { 'text/plain': { schema: { type: 'string', example: 'trailsight_insights_open 3\n' } } },
  })
  async metrics(): Promise<string> {
    const families = await Promise.all(this.collectors.map((collect) => collect()));
    return formatPrometheus(families.flat());
  }
}
