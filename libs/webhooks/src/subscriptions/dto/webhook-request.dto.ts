import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  DESTINATION_TYPES,
  PAGERDUTY_EVENTS_URL,
  WEBHOOK_EVENT_TYPES,
  type DestinationType,
  type WebhookEventType,
} from '../webhook-subscription.js';
import { WebhookFilterDto } from './webhook-filter.dto.js';

/** PagerDuty integration (routing) keys are 32 characters, letters and digits. */
const ROUTING_KEY = /^[A-Za-z0-9]{32}$/;
const ROUTING_KEY_MESSAGE = 'routingKey must be a PagerDuty integration key: 32 letters or digits';

const URL_OPTIONS = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  require_valid_protocol: true,
};

export class CreateWebhookRequestDto {
  @ApiPropertyOptional({
    enum: DESTINATION_TYPES,
    default: 'webhook',
    description:
      'webhook: the signed EventBridge envelope; slack: a Block Kit message to an incoming-webhook URL; ' +
      'teams: an Adaptive Card to a Workflows/Incoming webhook URL; pagerduty: Events API v2 ' +
      '(trigger on insight.start, resolve on insight.end, dedup_key = sharedEventID)',
  })
  @IsOptional()
  @IsIn(DESTINATION_TYPES)
  type?: DestinationType;

  @ApiProperty({
    example: 'https://hooks.example.com/trailsight',
    description: `http(s) URL; private addresses are refused. Optional for pagerduty (default ${PAGERDUTY_EVENTS_URL})`,
    required: false,
  })
  @ValidateIf((o: CreateWebhookRequestDto) => o.type !== 'pagerduty' || o.url !== undefined)
  @IsUrl(URL_OPTIONS, { message: 'url must be an http(s) URL' })
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({
    description: 'pagerduty only, and required there: the integration key (stored encrypted, never shown again)',
    example: 'R0123456789abcdef0123456789abcde',
    writeOnly: true,
  })
  @ValidateIf((o: CreateWebhookRequestDto) => o.type === 'pagerduty' || o.routingKey !== undefined)
  @IsString()
  @Matches(ROUTING_KEY, { message: ROUTING_KEY_MESSAGE })
  routingKey?: string;

  @ApiPropertyOptional({
    description: 'HMAC key for X-Trailsight-Signature (16-256 characters); generated and shown once when absent',
    example: 'a-long-random-shared-secret',
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @Length(16, 256)
  secret?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true, default: WEBHOOK_EVENT_TYPES })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events?: WebhookEventType[];

  @ApiPropertyOptional({ type: WebhookFilterDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => WebhookFilterDto)
  filter?: WebhookFilterDto;

  @ApiPropertyOptional({ example: 'security on-call' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  description?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** Every field optional; `enabled: true` re-enables a disabled subscription and clears its failure count. */
export class UpdateWebhookRequestDto {
  @ApiPropertyOptional({ example: 'https://hooks.example.com/trailsight' })
  @IsOptional()
  @IsUrl(URL_OPTIONS, { message: 'url must be an http(s) URL' })
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ description: 'pagerduty only: a new integration key', writeOnly: true })
  @IsOptional()
  @IsString()
  @Matches(ROUTING_KEY, { message: ROUTING_KEY_MESSAGE })
  routingKey?: string;

  @ApiPropertyOptional({ description: 'a new HMAC key (16-256 characters)', writeOnly: true })
  @IsOptional()
  @IsString()
  @Length(16, 256)
  secret?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events?: WebhookEventType[];

  @ApiPropertyOptional({ type: WebhookFilterDto, description: 'replaces the whole filter' })
  @IsOptional()
  @ValidateNested()
  @Type(() => WebhookFilterDto)
  filter?: WebhookFilterDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  description?: string;

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    example: true,
    description:
      'with `enabled: true` on a disabled subscription: also deliver what it missed while disabled ' +
      '(Start and End records since it was disabled that match it, newest first, at most 100)',
  })
  @IsOptional()
  @IsBoolean()
  replayMissed?: boolean;
}

export class RotateSecretRequestDto {
  @ApiPropertyOptional({
    description: 'the new HMAC key (16-256 characters); generated when absent',
    example: 'a-new-long-random-shared-secret',
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @Length(16, 256)
  secret?: string;
}

export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
