import { Module } from '@nestjs/common';
import { APP_CONFIG, RedisService, type AppConfig } from '@trailsight/core';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { CheckpointRepository } from '../lookup-events/checkpoint.repository.js';
import { FilesSourceService } from './files-source.service.js';
import { TrailFileClients } from './trail-file-clients.js';
import { TrailFilesRepository } from './trail-files.repository.js';

/**
 * The trail file sources for the poller app (active when CLOUDTRAIL_SOURCE is files, s3 or sqs).
 * Needs CoreModule and QueueModule (FilesProducer), both global.
 */
@Module({
  providers: [
    {
      provide: RejectsRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new RejectsRepository(redis.client, redis.keys),
    },
    {
      provide: CheckpointRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new CheckpointRepository(redis.client, redis.keys),
    },
    {
      provide: TrailFilesRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new TrailFilesRepository(redis.client, redis.keys),
    },
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
