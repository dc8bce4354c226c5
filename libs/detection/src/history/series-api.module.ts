import { Module } from '@nestjs/common';
import { SeriesApiService, SERIES_CLOCK } from './series-api.service.js';
import { SeriesHistoryModule } from './series-history.module.js';
import { SeriesController } from './series.controller.js';

/** `GET /v1/series` (no workers: safe in the api process). */
@Module({
  imports: [SeriesHistoryModule],
  controllers: [SeriesController],
  providers: [{ provide: SERIES_CLOCK, useValue: () => Date.now() }, SeriesApiService],
})
export class SeriesApiModule {}
