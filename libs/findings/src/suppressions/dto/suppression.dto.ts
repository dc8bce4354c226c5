import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { NEW_ACTOR_KINDS } from '../../findings/finding.js';
import type { SuppressionMatch } from '../suppression-match.js';
import type { MaintenanceWindow, SuppressionRule } from '../suppressions.repository.js';
import { FindingDto } from '../../api/dto/finding.response.dto.js';

const MATCH_EXAMPLE = {
  eventSource: 'ec2.amazonaws.com',
  eventName: 'Run*',
  userIdentityArn: 'arn:aws:sts::*:assumed-role/deploy-bot/*',
};

/**
 * The match fields, for the documentation: the body's `match` is checked field by field by
 * matchProblems (so a 400 names `match.<field>`), not by class-validator.
 */
class SuppressionMatchDto {
  @ApiPropertyOptional({ description: '12-digit account id; `*` is a wildcard', example: '123456789012' })
  accountId?: string;
  @ApiPropertyOptional({ example: 'us-*' })
  region?: string;
  @ApiPropertyOptional({ example: 'ec2.amazonaws.com' })
  eventSource?: string;
  @ApiPropertyOptional({ example: 'Run*' })
  eventName?: string;
  @ApiPropertyOptional({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'] })
  insightType?: string;
  @ApiPropertyOptional({ example: 'AccessDenied' })
  errorCode?: string;
  @ApiPropertyOptional({ enum: ['spike', 'drop'] })
  direction?: string;
  @ApiPropertyOptional({
    description:
      'Pattern on the insight\u2019s top contributing identity (first of the Start record\u2019s userIdentityArn attribution)',
    example: 'arn:aws:sts::*:assumed-role/deploy-bot/*',
  })
  userIdentityArn?: string;
  @ApiPropertyOptional({ description: 'Pattern on the insight\u2019s top user agent', example: 'terraform/*' })
  userAgent?: string;
  @ApiPropertyOptional({
    enum: NEW_ACTOR_KINDS,
    description:
      'The finding has a new identity (`identity`), a new user agent (`userAgent`), either (`any`) or neither ' +
      '(`none`) on this API in the baseline window; findings stored before new actors existed match none',
  })
  newActor?: string;
}

/** Body of POST and PUT /v1/suppressions. */
export class SuppressionRequestDto {
  @ApiProperty({ type: SuppressionMatchDto, example: MATCH_EXAMPLE })
  @IsObject({ message: 'match must be an object' })
  match!: SuppressionMatch;

  @ApiProperty({ description: 'Why it is muted', example: 'deploy-bot launches instances on every release' })
  @IsString()
  @MinLength(1, { message: 'reason must not be empty' })
  @MaxLength(1000)
  reason!: string;

  @ApiPropertyOptional({ description: 'ISO 8601; after it the rule matches nothing', example: '2026-12-31T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: string;
}

export class SuppressionDto {
  @ApiProperty({ example: '4f0c2b8e-3d1a-4c5e-9b7f-2a6d8e0c1b3f' })
  id!: string;
  @ApiProperty({ type: SuppressionMatchDto, example: MATCH_EXAMPLE })
  match!: SuppressionMatch;
  @ApiProperty({ example: 'deploy-bot launches instances on every release' })
  reason!: string;
  @ApiPropertyOptional({ example: '2026-12-31T00:00:00Z' })
  expiresAt?: string;
  @ApiProperty({ description: 'True once expiresAt has passed', example: false })
  expired!: boolean;
  @ApiProperty({ description: 'Id of the API key that created it', example: 'k_3f9a1c' })
  createdBy!: string;
  @ApiProperty({ example: '2026-03-04T10:00:00.000Z' })
  createdAt!: string;
  @ApiPropertyOptional({ example: 'k_3f9a1c' })
  updatedBy?: string;
  @ApiPropertyOptional({ example: '2026-03-05T09:00:00.000Z' })
  updatedAt?: string;

  static from(rule: SuppressionRule, nowMs = Date.now()): SuppressionDto {
    return { ...rule, expired: rule.expiresAt !== undefined && Date.parse(rule.expiresAt) <= nowMs };
  }
}

export class SuppressionListDto {
  @ApiProperty({ type: [SuppressionDto] })
  items!: SuppressionDto[];
}

/** Body of POST /v1/suppressions/preview. */
export class SuppressionPreviewRequestDto {
  @ApiProperty({ type: SuppressionMatchDto, example: MATCH_EXAMPLE })
  @IsObject({ message: 'match must be an object' })
  match!: SuppressionMatch;

  @ApiPropertyOptional({ description: 'How many days back, by start time', minimum: 1, maximum: 90, default: 30 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'days must be a whole number from 1 to 90' })
  @Min(1, { message: 'days must be a whole number from 1 to 90' })
  @Max(90, { message: 'days must be a whole number from 1 to 90' })
  days?: number;
}

export class SuppressionPreviewDto {
  @ApiProperty({ example: 30 })
  days!: number;
  @ApiProperty({ description: 'Stored findings of those days examined', example: 1250 })
  examined!: number;
  @ApiProperty({ description: 'How many of them the draft matches', example: 12 })
  matched!: number;
  @ApiProperty({ type: [FindingDto], description: 'The matched findings, newest first, at most 100' })
  items!: FindingDto[];
  @ApiProperty({ description: 'True when more than 100 matched', example: false })
  truncated!: boolean;
}

/** Body of POST and PUT /v1/maintenance-windows: `from`+`to`, or `rrule`|`cron` + durationMinutes + timeZone. */
export class MaintenanceWindowRequestDto {
  @ApiPropertyOptional({
    type: SuppressionMatchDto,
    description: 'Which findings it mutes; empty or absent: every finding',
    example: { accountId: '123456789012', region: 'us-east-1' },
  })
  @IsOptional()
  @IsObject({ message: 'match must be an object' })
  match?: SuppressionMatch;

  @ApiProperty({ example: 'Saturday patching' })
  @IsString()
  @MinLength(1, { message: 'reason must not be empty' })
  @MaxLength(1000)
  reason!: string;

  @ApiPropertyOptional({ description: 'One-off: ISO 8601 start', example: '2026-03-07T01:00:00Z' })
  @ValidateIf((_, value) => value !== undefined)
  @IsString({ message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'One-off: ISO 8601 end (excluded)', example: '2026-03-07T03:00:00Z' })
  @ValidateIf((_, value) => value !== undefined)
  @IsString({ message: 'to must be an ISO 8601 date-time' })
  to?: string;

  @ApiPropertyOptional({
    description: 'Recurring: an RFC 5545 RRULE; DTSTART, if given, is wall-clock time in timeZone (default: creation)',
    example: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=0;BYSECOND=0',
  })
  @ValidateIf((_, value) => value !== undefined)
  @IsString({ message: 'rrule must be a string' })
  rrule?: string;

  @ApiPropertyOptional({ description: 'Recurring: a cron expression (5 or 6 fields)', example: '0 2 * * 6' })
  @ValidateIf((_, value) => value !== undefined)
  @IsString({ message: 'cron must be a string' })
  cron?: string;

  @ApiPropertyOptional({ description: 'Recurring: minutes each occurrence lasts (1 to 10080)', example: 120 })
  @IsOptional()
  durationMinutes?: number;

  @ApiPropertyOptional({ description: 'Recurring: IANA time zone of the occurrences', example: 'Europe/Paris' })
  @IsOptional()
  timeZone?: string;
}

export class MaintenanceWindowDto {
  @ApiProperty({ example: '7d2e9a4c-1b3f-4e5d-8c6a-0f9b2d4e6a8c' })
  id!: string;
  @ApiProperty({ type: SuppressionMatchDto, example: { accountId: '123456789012' } })
  match!: SuppressionMatch;
  @ApiProperty({ example: 'Saturday patching' })
  reason!: string;
  @ApiPropertyOptional({ example: '2026-03-07T01:00:00Z' })
  from?: string;
  @ApiPropertyOptional({ example: '2026-03-07T03:00:00Z' })
  to?: string;
  @ApiPropertyOptional({ example: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=0;BYSECOND=0' })
  rrule?: string;
  @ApiPropertyOptional({ example: '0 2 * * 6' })
  cron?: string;
  @ApiPropertyOptional({ example: 120 })
  durationMinutes?: number;
  @ApiPropertyOptional({ example: 'Europe/Paris' })
  timeZone?: string;
  @ApiProperty({ description: 'Whether the window is open now', example: false })
  openNow!: boolean;
  @ApiProperty({ example: 'k_3f9a1c' })
  createdBy!: string;
  @ApiProperty({ example: '2026-03-04T10:00:00.000Z' })
  createdAt!: string;
  @ApiPropertyOptional({ example: 'k_3f9a1c' })
  updatedBy?: string;
  @ApiPropertyOptional({ example: '2026-03-05T09:00:00.000Z' })
  updatedAt?: string;

  static from(window: MaintenanceWindow, openNow: boolean): MaintenanceWindowDto {
    return { ...window, openNow };
  }
}

export class MaintenanceWindowListDto {
  @ApiProperty({ type: [MaintenanceWindowDto] })
  items!: MaintenanceWindowDto[];
}
