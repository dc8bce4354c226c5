import { Module } from '@nestjs/common';
import { redisRepository } from '@trailsight/core';
import { TuningController } from './tuning.controller.js';
import { TuningRepository } from './tuning.repository.js';
import { TuningService } from './tuning.service.js';

/** `/v1/tuning` routes (read lists, admin writes). Needs CoreModule and AuthModule. */
@Module({
  controllers: [TuningController],
  providers: [redisRepository(TuningRepository), TuningService],
})
export class TuningModule {}
