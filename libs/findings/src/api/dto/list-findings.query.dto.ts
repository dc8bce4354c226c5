import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { TRIAGE_STATES, type TriageState } from '../../findings/finding.js';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const NAME = /^[A-Za-z0-9._:-]+$/;
// No `example` on query parameters: Swagger UI prefills examples in "Try it out", which would
// filter a first try down to nothing. Descriptions carry them instead.

/** Query of GET /v1/findings: every filter optional; unknown parameters are a 400. */
export class ListFindingsQueryDto {
  @ApiPropertyOptional({ enum: ['open', 'closed'] })
  @IsOptional()
  @IsIn(['open', 'closed'])
  state?: 'open' | 'closed';

  @ApiPropertyOptional({ enum: TRIAGE_STATES, description: 'Triage state set with PATCH /v1/findings/{id}' })
  @IsOptional()
  @IsIn(TRIAGE_STATES, { message: `triage must be one of ${TRIAGE_STATES.join(', ')}` })
  triage?: TriageState;

  @ApiPropertyOptional({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'] })
  @IsOptional()
  @IsIn(['ApiCallRateInsight', 'ApiErrorRateInsight'])
  insightType?: 'ApiCallRateInsight' | 'ApiErrorRateInsight';

  @ApiPropertyOptional({ description: 'e.g. ec2.amazonaws.com' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(NAME, { message: 'eventSource must be letters, digits, ".", "_", ":" or "-"' })
  eventSource?: string;

  @ApiPropertyOptional({ description: 'e.g. RunInstances' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(NAME, { message: 'eventName must be letters, digits, ".", "_", ":" or "-"' })
  eventName?: string;

  @ApiPropertyOptional({ description: 'e.g. AccessDenied' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(NAME, { message: 'errorCode must be letters, digits, ".", "_", ":" or "-"' })
  errorCode?: string;

  @ApiPropertyOptional({ description: 'e.g. 123456789012' })
  @IsOptional()
  @Matches(/^\d{12}$/, { message: 'accountId must be a 12-digit AWS account id' })
  accountId?: string;

  @ApiPropertyOptional({ description: 'e.g. us-east-1' })
  @IsOptional()
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d+$/, { message: 'region must look like us-east-1' })
  region?: string;

  @ApiPropertyOptional({ description: 'ISO 8601: findings that started at or after it (e.g. 2025-03-01T00:00:00Z)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ description: 'ISO 8601: findings that started before it (e.g. 2025-03-05T00:00:00Z)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 date-time' })
  until?: string;

  @ApiPropertyOptional({
    enum: ['exclude', 'include', 'only'],
    default: 'exclude',
    description: 'Findings muted by a suppression rule or maintenance window: hidden (default), included, or only them',
  })
  @IsOptional()
  @IsIn(['exclude', 'include', 'only'], { message: 'suppressed must be one of exclude, include, only' })
  suppressed?: 'exclude' | 'include' | 'only';

  @ApiPropertyOptional({ description: 'Page size', minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 500' })
  @Min(1, { message: 'limit must be a whole number from 1 to 500' })
  @Max(500, { message: 'limit must be a whole number from 1 to 500' })
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  cursor?: string;
}

/** Path of GET /v1/findings/{id}[/...]. */
export class FindingIdParamsDto {
  @Matches(/^[A-Za-z0-9-]{1,64}$/, { message: 'id must be a finding id (its sharedEventID)' })
  id!: string;
}
