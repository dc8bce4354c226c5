import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import type { InsightRecordType } from '@trailsight/domain';
import { NEW_ACTOR_KINDS, type NewActorKind } from '@trailsight/findings';

const INSIGHT_TYPES: InsightRecordType[] = ['ApiCallRateInsight', 'ApiErrorRateInsight'];

/** Which insights a subscription receives: every field lists accepted values; absent means any. */
export class WebhookFilterDto {
  @ApiPropertyOptional({ enum: INSIGHT_TYPES, isArray: true, example: ['ApiCallRateInsight'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(2)
  @IsIn(INSIGHT_TYPES, { each: true })
  insightType?: InsightRecordType[];

  @ApiPropertyOptional({ type: [String], example: ['ec2.amazonaws.com', 'iam.amazonaws.com'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  eventSource?: string[];

  @ApiPropertyOptional({ type: [String], example: ['RunInstances'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  eventName?: string[];

  @ApiPropertyOptional({ type: [String], example: ['AccessDenied'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  errorCode?: string[];

  @ApiPropertyOptional({ type: [String], example: ['123456789012'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(/^\d{12}$/, { each: true, message: 'accountId entries must be 12-digit account ids' })
  accountId?: string[];

  @ApiPropertyOptional({ type: [String], example: ['us-east-1'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d+$/, { each: true, message: 'region entries must look like us-east-1' })
  region?: string[];

  @ApiPropertyOptional({
    enum: NEW_ACTOR_KINDS,
    isArray: true,
    example: ['any'],
    description:
      'only insights whose finding has a new identity (`identity`), a new user agent (`userAgent`), either ' +
      '(`any`) or neither (`none`) on this API in the baseline window; any listed kind accepts',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(NEW_ACTOR_KINDS.length)
  @IsIn(NEW_ACTOR_KINDS, {
    each: true,
    message: `newActor entries must be one of ${NEW_ACTOR_KINDS.join(', ')}`,
  })
  newActor?: NewActorKind[];
}
