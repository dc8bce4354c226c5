import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { InsightRecordDto } from './insight-record.dto.js';
import { ListFindingsQueryDto } from './list-findings.query.dto.js';

/** Query of GET /v1/reference-insights: the findings filters that apply to records, and `state`. */
export class ListReferenceInsightsQueryDto extends PickType(ListFindingsQueryDto, [
  'insightType',
  'eventSource',
  'eventName',
  'errorCode',
  'accountId',
  'region',
  'since',
  'until',
  'limit',
  'cursor',
] as const) {
  @ApiPropertyOptional({ enum: ['Start', 'End'], description: 'The records\u2019 insightDetails.state' })
  @IsOptional()
  @IsIn(['Start', 'End'], { message: 'state must be Start or End' })
  state?: 'Start' | 'End';
}

export class ReferenceInsightPageDto {
  @ApiProperty({ type: [InsightRecordDto], description: 'AWS\u2019s own Insights records, newest eventTime first' })
  items!: InsightRecordDto[];

  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' })
  nextCursor?: string;
}
