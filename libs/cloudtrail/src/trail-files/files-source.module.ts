import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, redisRepository } from '@trailsight/core';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { CheckpointRepository } from '../lookup-events/checkpoint.repository.js';
import { FilesSourceService } from './files-source.service.js';
import { TrailFileClients } from './trail-file-clients.js';
import { TrailFilesRepository } from './trail-files.repository.js';

/**
 * The trail file sources for the poller app (active when CLOUDTRAIL_SOURCE is files, s3 or sqs).
 * Needs CoreModule and QueueModule (the TrailFilesSink port), both global.
 */
@Module({
  providers: [
    redisRepository(RejectsRepository),
    redisRepository(CheckpointRepository, (config) => config),
    redisRepository(TrailFilesRepository, (config) => config),
    {
      provide: TrailFileClients,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new TrailFileClients(config),
    },
    FilesSourceService,
  ],
  exports: [FilesSourceService, TrailFilesRepository],
})
export class FilesSourceModule {}
