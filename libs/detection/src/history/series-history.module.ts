import { Module } from '@nestjs/common';
import { redisRepository } from '@trailsight/core';
import { SeriesHistoryRepository } from './series-history.repository.js';
import { SeriesHistoryService } from './series-history.service.js';

/** @public Reads of any series' rolled-up history (no workers: safe in the api process). */
@Module({
  providers: [redisRepository(SeriesHistoryRepository), SeriesHistoryService],
  exports: [SeriesHistoryService],
})
export class SeriesHistoryModule {}
