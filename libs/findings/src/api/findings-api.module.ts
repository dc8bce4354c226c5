import { Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { metricCollector, RedisService } from '@trailsight/core';
import { FindingsRepository } from '../findings/findings.repository.js';
import { FindingsModule } from '../findings.module.js';
import { FindingsController } from './findings.controller.js';
import { FindingsApiService } from './findings-api.service.js';
import { FindingsPageCache } from './findings-page.cache.js';
import { ReferenceInsightsController } from './reference-insights.controller.js';
import { MaintenanceWindowsController } from '../suppressions/maintenance-windows.controller.js';
import { SuppressionsController } from '../suppressions/suppressions.controller.js';
import { SuppressionsService } from '../suppressions/suppressions.service.js';

/** `/v1/findings`, `/v1/suppressions` and `/v1/maintenance-windows` routes and the open-insights metric. Needs CoreModule and AuthModule. */
@Module({
  imports: [FindingsModule],
  controllers: [FindingsController, SuppressionsController, MaintenanceWindowsController, ReferenceInsightsController],
  providers: [
    FindingsApiService,
    SuppressionsService,
    {
      provide: FindingsPageCache,
      inject: [RedisService],
      useFactory: (redis: RedisService) =>
        new FindingsPageCache(redis.bullConnectionOptions(), `${redis.keys.prefix}:${redis.keys.findingsTag()}:`),
    },
    metricCollector(
      (findings: FindingsRepository) => async () => {
        const [open, all, suppressed] = await Promise.all([
          findings.count('open'),
          findings.count(),
          findings.countSuppressed(),
        ]);
        return [
          {
            name: 'trailsight_insights_open',
            help: 'Findings currently open.',
            type: 'gauge',
            samples: [{ value: open }],
          },
          {
            name: 'trailsight_findings_stored',
            help: 'Findings stored (open and closed, within retention).',
            type: 'gauge',
            samples: [{ value: all }],
          },
          {
            name: 'trailsight_findings_suppressed',
            help: 'Stored findings muted by a suppression rule or maintenance window (not delivered).',
            type: 'gauge',
            samples: [{ value: suppressed }],
          },
        ];
      },
      [FindingsRepository],
    ),
  ],
})
export class FindingsApiModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly cache: FindingsPageCache,
    private readonly redis: RedisService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Not on a Redis Cluster: its invalidations (CLIENT TRACKING BCAST) come from one node only,
    // and the node that owns the findings slot changes with a failover. Pages are read from Redis.
    if (this.redis.isCluster) {
      new Logger(FindingsApiModule.name).log('findings page cache off on a Redis Cluster');
      return;
    }
    await this.cache.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cache.stop();
  }
}
