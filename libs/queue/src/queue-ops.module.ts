import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { healthIndicator, metricCollector } from '@trailsight/core';
import { QueueOpsService } from './queue-ops.service.js';

/** Queue backlogs in `GET /health` (key `queues`) and `GET /metrics`, for every queue the app registers. */
@Module({
  imports: [DiscoveryModule, TerminusModule],
  providers: [
    QueueOpsService,
    healthIndicator((ops: QueueOpsService) => () => ops.isHealthy('queues'), [QueueOpsService]),
    metricCollector((ops: QueueOpsService) => () => ops.metrics(), [QueueOpsService]),
  ],
})
export class QueueOpsModule {}
