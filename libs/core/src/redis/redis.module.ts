import { Global, Module } from '@nestjs/common';
import { RedisService } from './redis.service.js';

/** The process's Redis connections, for every module (RedisService needs APP_CONFIG). */
@Global()
@Module({
  providers: [RedisService],
  exports: [RedisService],
})
export class RedisModule {}
