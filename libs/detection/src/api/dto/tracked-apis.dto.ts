import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/**
 * Longest baseline window of GET /v1/apis read from the counters: a day. Each request reads the
 * window's series fields from every account-region, so the cap bounds what one read key can ask of
 * Redis; longer baselines are the evaluator's (its verdicts carry a 7-day baseline).
 */
const MAX_WINDOW_MINUTES = 1440;
const WINDOW_MESSAGE = `windowMinutes must be a whole number from 5 to ${MAX_WINDOW_MINUTES}`;

/** Query of GET /v1/apis. */
export class ListTrackedApisQueryDto {
  @ApiPropertyOptional({ description: 'e.g. 123456789012' })
  @IsOptional()
  @Matches(/^\d{12}$/, { message: 'accountId must be a 12-digit AWS account id' })
  accountId?: string;

  @ApiPropertyOptional({ description: 'e.g. us-east-1' })
  @IsOptional()
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d+$/, { message: 'region must look like us-east-1' })
  region?: string;

  @ApiPropertyOptional({ description: 'e.g. ec2.amazonaws.com' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  eventSource?: string;

  @ApiPropertyOptional({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'] })
  @IsOptional()
  @IsIn(['ApiCallRateInsight', 'ApiErrorRateInsight'])
  insightType?: 'ApiCallRateInsight' | 'ApiErrorRateInsight';

  @ApiPropertyOptional({
    description: 'Minutes the baseline mean covers (counter-based series), at most a day',
    minimum: 5,
    maximum: MAX_WINDOW_MINUTES,
    default: 60,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: WINDOW_MESSAGE })
  @Min(5, { message: WINDOW_MESSAGE })
  @Max(MAX_WINDOW_MINUTES, { message: WINDOW_MESSAGE })
  windowMinutes?: number;

  @ApiPropertyOptional({ description: 'Most series returned, busiest first', minimum: 1, maximum: 1000, default: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 1000' })
  @Min(1, { message: 'limit must be a whole number from 1 to 1000' })
  @Max(1000, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: number;
}

export class TrackedRangeDto {
  @ApiProperty({ example: 0.05 })
  expected!: number;

  @ApiProperty({ example: 0 })
  lower!: number;

  @ApiProperty({ example: 3.2 })
  upper!: number;
}

export class TrackedApiDto {
  @ApiProperty({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'], example: 'ApiCallRateInsight' })
  insightType!: string;

  @ApiProperty({ example: '123456789012' })
  accountId!: string;

  @ApiProperty({ example: 'us-east-1' })
  region!: string;

  @ApiProperty({ example: 'ec2.amazonaws.com' })
  eventSource!: string;

  @ApiProperty({ example: 'RunInstances' })
  eventName!: string;

  @ApiPropertyOptional({ description: 'Error-rate series only', example: 'AccessDenied' })
  errorCode?: string;

  @ApiPropertyOptional({
    enum: ['Data'],
    description: 'Data-event series only (INSIGHTS_EVENT_CATEGORIES=Management,Data); absent for management series',
    example: 'Data',
  })
  eventCategory?: 'Data' | 'Management';

  @ApiProperty({ description: 'Events in the current minute (the last evaluated, or the last closed one)', example: 4 })
  currentRate!: number;

  @ApiProperty({ description: 'The last closed minute', example: '2025-03-04T10:15:00.000Z' })
  currentMinute!: string;

  @ApiProperty({ description: 'Mean events per minute over the window before the current minute', example: 0.0421 })
  baselineAverage!: number;

  @ApiPropertyOptional({ description: 'Counter-based series only: minutes the baseline mean covers', example: 60 })
  baselineWindowMinutes?: number;

  @ApiPropertyOptional({ type: TrackedRangeDto, description: 'The evaluator\u2019s expected range for currentMinute' })
  expected?: TrackedRangeDto;

  @ApiPropertyOptional({ description: 'True while the evaluator has too little history to judge' })
  warmingUp?: boolean;

  @ApiPropertyOptional({ description: 'Id of the series\u2019 open finding' })
  openFindingId?: string;
}

export class TrackedApisDto {
  @ApiProperty({ type: [TrackedApiDto], description: 'Busiest current rate first' })
  items!: TrackedApiDto[];

  @ApiProperty({ description: 'Series active in the window, before `limit`', example: 42 })
  total!: number;
}
