import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DOC_CALL_RATE_END, DOC_CALL_RATE_START } from '../../records/insight-record.examples.js';

// Examples are the reference doc's §2.2 call-rate pair and AWS's own §2.3 error-rate record.

export class AttributionEntryDto {
  @ApiProperty({ example: 'arn:aws:sts::123456789012:assumed-role/ci-deployer/build-7781' })
  value!: string;

  @ApiProperty({ description: 'Events per minute', example: 35 })
  average!: number;
}

export class AttributionDto {
  @ApiProperty({ enum: ['userIdentityArn', 'userAgent', 'errorCode'], example: 'userIdentityArn' })
  attribute!: string;

  @ApiProperty({ type: [AttributionEntryDto], description: 'Top 5 values in the insight period, highest first' })
  insight!: AttributionEntryDto[];

  @ApiProperty({
    type: [AttributionEntryDto],
    description: 'Top 5 values in the baseline window, highest first; empty when nothing happened',
  })
  baseline!: AttributionEntryDto[];
}

export class AverageDto {
  @ApiProperty({ description: 'Events per minute', example: 0.0421 })
  average!: number;
}

export class InsightStatisticsDto {
  @ApiProperty({ type: AverageDto, example: { average: 0.0421 } })
  baseline!: AverageDto;

  @ApiProperty({ type: AverageDto, example: { average: 37 } })
  insight!: AverageDto;

  @ApiPropertyOptional({ description: 'Minutes', example: 1 })
  insightDuration?: number;

  @ApiPropertyOptional({ description: 'Minutes', example: 10080 })
  baselineDuration?: number;
}

export class InsightContextDto {
  @ApiProperty({ type: InsightStatisticsDto })
  statistics!: InsightStatisticsDto;

  @ApiPropertyOptional({ type: [AttributionDto] })
  attributions?: AttributionDto[];
}

export class InsightDetailsDto {
  @ApiProperty({ enum: ['Start', 'End'], example: 'Start' })
  state!: string;

  @ApiProperty({ example: 'ec2.amazonaws.com' })
  eventSource!: string;

  @ApiProperty({ example: 'RunInstances' })
  eventName!: string;

  @ApiProperty({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'], example: 'ApiCallRateInsight' })
  insightType!: string;

  @ApiPropertyOptional({ description: 'ApiErrorRateInsight only', example: 'QueryIdNotFoundException' })
  errorCode?: string;

  @ApiPropertyOptional({ enum: ['Management', 'Data'], example: 'Management' })
  sourceEventCategory?: string;

  @ApiPropertyOptional({ description: 'Trail ARN; data-event insights only' })
  insightSource?: string;

  @ApiProperty({ type: InsightContextDto })
  insightContext!: InsightContextDto;
}

/** One CloudTrail Insights event record, in AWS's layout. */
export class InsightRecordDto {
  @ApiProperty({ example: '1.09' })
  eventVersion!: string;

  @ApiProperty({ example: '2025-03-04T10:15:00Z' })
  eventTime!: string;

  @ApiProperty({ example: 'us-east-1' })
  awsRegion!: string;

  @ApiProperty({ example: '3f0b6a51-6d0e-4c8e-9d7e-0a1b2c3d4e5f' })
  eventID!: string;

  @ApiProperty({ enum: ['AwsCloudTrailInsight'], example: 'AwsCloudTrailInsight' })
  eventType!: string;

  @ApiPropertyOptional({ example: '123456789012' })
  recipientAccountId?: string;

  @ApiProperty({ example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  sharedEventID!: string;

  @ApiProperty({ type: InsightDetailsDto })
  insightDetails!: InsightDetailsDto;

  @ApiProperty({ enum: ['Insight'], example: 'Insight' })
  eventCategory!: string;
}

/** §2.2's Start and End records: the example of GET /v1/findings/{id}/records. */
export const RECORDS_EXAMPLE = [DOC_CALL_RATE_START, DOC_CALL_RATE_END];
