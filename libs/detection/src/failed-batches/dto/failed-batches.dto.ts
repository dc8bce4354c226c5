import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, Length } from 'class-validator';

/** Body of POST /v1/ingest/failed/retry: the batches to retry, all of them when `ids` is absent. */
export class RetryFailedBatchesDto {
  @ApiPropertyOptional({ type: [String], description: 'Batch (job) ids; absent: every failed batch' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  ids?: string[];
}

/** Body of POST /v1/ingest/failed/discard: the batches to give up, named one by one. */
export class DiscardFailedBatchesDto {
  @ApiProperty({ type: [String], description: 'Batch (job) ids to give up: their events will never be counted' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  ids!: string[];
}

export class FailedBatchDto {
  @ApiProperty({ example: 'batch-3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6d7e8f901' })
  id!: string;

  @ApiProperty({ example: '123456789012' })
  accountId!: string;

  @ApiProperty({ example: 'us-east-1' })
  region!: string;

  @ApiProperty({ example: 'lookup-events' })
  origin!: string;

  @ApiProperty({ description: 'Events in the batch, none of them counted', example: 500 })
  events!: number;

  @ApiProperty({ description: 'First minute of its events: evaluation of the account-region waits here' })
  firstMinute!: string;

  @ApiProperty()
  lastMinute!: string;

  @ApiProperty()
  failedAt!: string;

  @ApiProperty({ description: 'The last attempt\u2019s error' })
  error!: string;
}

export class FailedBatchTotalsDto {
  @ApiProperty({ description: 'Final failures since the deployment started' })
  batches!: number;

  @ApiProperty()
  events!: number;

  @ApiProperty({ description: 'Batches given up by an operator' })
  discardedBatches!: number;

  @ApiProperty()
  discardedEvents!: number;
}

export class FailedBatchListDto {
  @ApiProperty({
    type: [FailedBatchDto],
    description: 'Failed and not yet retried, counted or discarded; oldest first',
  })
  items!: FailedBatchDto[];

  @ApiProperty({ type: FailedBatchTotalsDto })
  totals!: FailedBatchTotalsDto;
}

export class FailedBatchResultDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['retried', 'pending', 'counted', 'discarded', 'missing', 'unknown'] })
  outcome!: string;
}

export class FailedBatchResultsDto {
  @ApiProperty({ type: [FailedBatchResultDto] })
  items!: FailedBatchResultDto[];
}
