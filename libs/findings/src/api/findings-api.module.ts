import { Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { metricCollector, RedisService, slotOwner } from '@trailsight/core';
import type { Cluster } from 'ioredis';
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
      useFactory: (redis: RedisService) => {
        const prefix = `${redis.keys.prefix}:${redis.keys.findingsTag()}:`;
        // On a Redis Cluster, tracking hears one node: the primary of the findings slot, asked anew on each reconnect.
        const locate = redis.isCluster ? () => slotOwner(redis.client as Cluster, prefix) : undefined;
        return new FindingsPageCache(redis.bullConnectionOptions(), prefix, locate);
      },
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
  constructor(private readonly cache: FindingsPageCache) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.cache.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cache.stop();
  }
}
