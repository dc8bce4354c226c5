import { Module } from '@nestjs/common';
import { FindingsModule } from './findings.module.js';
import { FindingsRetentionService } from './findings/findings-retention.service.js';

/**
 * The scheduled prune of findings past FINDINGS_RETENTION_DAYS, for the apps that own findings
 * (detector, combined). Needs CoreModule (RedisService, and ScheduleModule's SchedulerRegistry).
 */
@Module({
  imports: [FindingsModule],
  providers: [FindingsRetentionService],
  exports: [FindingsRetentionService],
})
export class FindingsRetentionModule {}
