import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { healthIndicator, readinessCheck } from '@trailsight/core';
import { PollerModule } from './lookup-events/poller.module.js';
import { PollerService } from './lookup-events/poller.service.js';
import { FilesSourceModule } from './trail-files/files-source.module.js';
import { FilesSourceService } from './trail-files/files-source.service.js';
import { BackfillProgressService } from './backfill/backfill-progress.service.js';

/**
 * The poller's sources (LookupEvents and trail files) with their operations side: back-fill
 * progress and ETA in `/health` (key `backfill`), `/metrics` and the logs, and `/health/ready`
 * down once a source's loop has ended. Needs CoreModule and QueueModule.
 */
@Module({
  imports: [TerminusModule, PollerModule, FilesSourceModule],
  providers: [
    BackfillProgressService,
    healthIndicator(
      (progress: BackfillProgressService) => () => Promise.resolve(progress.isHealthy('backfill')),
      [BackfillProgressService],
    ),
    readinessCheck(
      (poller: PollerService, files: FilesSourceService) => () => poller.running() && files.running(),
      [PollerService, FilesSourceService],
    ),
  ],
  exports: [PollerModule, FilesSourceModule],
})
export class SourcesModule {}
