import { ApiProperty, ApiPropertyOptional, IntersectionType, PartialType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { SeriesPointDto } from '@trailsight/findings';

const PERIOD_MESSAGE = 'period must be 60, 300 or 3600 (seconds)';

/** Query of GET /v1/series. */
export class SeriesQueryDto {
  @ApiProperty({ example: '123456789012' })
  @Matches(/^\d{12}$/, { message: 'accountId must be a 12-digit AWS account id' })
  accountId!: string;

  @ApiProperty({ example: 'us-east-1' })
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d+$/, { message: 'region must look like us-east-1' })
  region!: string;

  @ApiProperty({ example: 'ec2.amazonaws.com' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  eventSource!: string;

  @ApiProperty({ example: 'RunInstances' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  eventName!: string;

  @ApiProperty({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'], example: 'ApiCallRateInsight' })
  @IsIn(['ApiCallRateInsight', 'ApiErrorRateInsight'], {
    message: 'insightType must be ApiCallRateInsight or ApiErrorRateInsight',
  })
  insightType!: 'ApiCallRateInsight' | 'ApiErrorRateInsight';

  @ApiPropertyOptional({ description: 'Required for ApiErrorRateInsight, refused otherwise', example: 'AccessDenied' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  errorCode?: string;

  @ApiPropertyOptional({ description: 'ISO 8601; default: 24 hours before `until`', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, exclusive; default: now', example: '2026-12-02T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 date-time' })
  until?: string;

  @ApiPropertyOptional({ enum: [60, 300, 3600], default: 60, description: 'Bucket width in seconds' })
  @IsOptional()
  @Type(() => Number)
  @IsIn([60, 300, 3600], { message: PERIOD_MESSAGE })
  period?: 60 | 300 | 3600;
}

/** A bucket: its events and, where the detector had a model, its figures scaled to the bucket. */
export class SeriesBucketDto extends IntersectionType(
  PickType(SeriesPointDto, ['minute', 'value'] as const),
  PartialType(PickType(SeriesPointDto, ['expected', 'lower', 'upper', 'baselineAverage'] as const)),
) {}

export class SeriesDto {
  @ApiProperty({ example: '123456789012' })
  accountId!: string;

  @ApiProperty({ example: 'us-east-1' })
  region!: string;

  @ApiProperty({ example: 'ec2.amazonaws.com' })
  eventSource!: string;

  @ApiProperty({ example: 'RunInstances' })
  eventName!: string;

  @ApiProperty({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'] })
  insightType!: string;

  @ApiPropertyOptional({ example: 'AccessDenied' })
  errorCode?: string;

  @ApiProperty({ enum: [60, 300, 3600], example: 60 })
  period!: number;

  @ApiProperty({
    type: [SeriesBucketDto],
    description:
      'Every bucket of [since, until), oldest first, zeros where nothing was counted. `minute` is the ' +
      "bucket's start. expected, lower, upper and baselineAverage are the detector's per-minute figures " +
      'as of the bucket’s hour multiplied by the minutes in the bucket (5 for period 300, 60 for 3600); ' +
      'absent where no model was stored (the series counted nothing that hour, or was warming up).',
  })
  points!: SeriesBucketDto[];
}
