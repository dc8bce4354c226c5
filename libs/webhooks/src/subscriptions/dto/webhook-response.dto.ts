import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  DESTINATION_TYPES,
  WEBHOOK_EVENT_TYPES,
  type DeliveryAttempt,
  type DestinationType,
  type WebhookEventType,
  type WebhookSubscription,
} from '../webhook-subscription.js';
import { WebhookFilterDto } from './webhook-filter.dto.js';

/** A subscription as the API shows it: never its secret. */
export class WebhookResponseDto {
  @ApiProperty({ example: '0b7c6f0e-4a53-4f0e-9d1c-2f5c8c1d9a41' })
  id!: string;

  @ApiProperty({ enum: DESTINATION_TYPES, example: 'webhook' })
  type!: DestinationType;

  @ApiProperty({ example: 'https://hooks.example.com/trailsight' })
  url!: string;

  @ApiPropertyOptional({ example: 'security on-call' })
  description?: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  events!: WebhookEventType[];

  @ApiProperty({ type: WebhookFilterDto })
  filter!: WebhookFilterDto;

  @ApiProperty({ example: true })
  enabled!: boolean;

  @ApiPropertyOptional({ example: 'disabled after 10 consecutive failed deliveries; last: HTTP 500' })
  disabledReason?: string;

  @ApiPropertyOptional({ example: '2026-09-01T12:00:00.000Z' })
  disabledAt?: string;

  @ApiProperty({ example: 0, description: 'deliveries in a row that failed after all their attempts' })
  consecutiveFailures!: number;

  @ApiPropertyOptional({
    example: '2026-09-02T12:00:00.000Z',
    description: 'after a secret rotation: until when the old secret signs as well (a second v1=)',
  })
  previousSecretValidUntil?: string;

  @ApiProperty({ example: '2026-09-01T12:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ example: '2026-09-01T12:00:00.000Z' })
  updatedAt!: string;

  static from(subscription: WebhookSubscription): WebhookResponseDto {
    return Object.assign(new WebhookResponseDto(), subscription);
  }
}

/** The create response: the only time the secret is shown. */
export class CreatedWebhookResponseDto extends WebhookResponseDto {
  @ApiProperty({ example: 'whsec_Zk3…', description: 'the signing secret; store it now, it is never shown again' })
  secret!: string;

  static withSecret(subscription: WebhookSubscription, secret: string): CreatedWebhookResponseDto {
    return Object.assign(new CreatedWebhookResponseDto(), subscription, { secret });
  }
}

/** PATCH's answer: the subscription, and how many missed deliveries were replayed when asked. */
export class UpdatedWebhookResponseDto extends WebhookResponseDto {
  @ApiPropertyOptional({ example: 12, description: 'with replayMissed: deliveries queued again (at most 100)' })
  replayed?: number;
}

export class RotatedSecretResponseDto {
  @ApiProperty({ example: 'whsec_Zk3…', description: 'the new signing secret; store it now, it is never shown again' })
  secret!: string;

  @ApiProperty({
    example: '2026-09-02T12:00:00.000Z',
    description: 'until then every delivery carries two v1= signatures: the new secret first, then the old one',
  })
  previousSecretValidUntil!: string;
}

export class RedeliveryResponseDto {
  @ApiProperty({ example: '8d0f5a8e-2f1c-4a8e-9a43-6d1b7f0e2c11', description: 'the new delivery (its own body id)' })
  deliveryId!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  event!: string;

  @ApiProperty({ example: 'c5d3f1a2-0b1e-4f6a-9d2c-7e8f9a0b1c2d', description: 'the insight (sharedEventID)' })
  insightId!: string;
}

export class WebhookListResponseDto {
  @ApiProperty({ type: [WebhookResponseDto] })
  items!: WebhookResponseDto[];
}

export class DeliveryAttemptDto {
  @ApiProperty({ example: '3f2a9c1e-77d0-5b1a-a4e2-9c0d8e7f6a5b', description: 'X-Trailsight-Delivery' })
  deliveryId!: string;

  @ApiProperty({ enum: [...WEBHOOK_EVENT_TYPES, 'ping'] })
  event!: DeliveryAttempt['event'];

  @ApiProperty({ example: 1 })
  attempt!: number;

  @ApiProperty({ enum: ['delivered', 'failed', 'skipped'] })
  outcome!: DeliveryAttempt['outcome'];

  @ApiPropertyOptional({ example: 200 })
  status?: number;

  @ApiProperty({ example: 42 })
  latencyMs!: number;

  @ApiPropertyOptional({ example: 'timed out after 10000 ms' })
  error?: string;

  @ApiProperty({ example: '2026-09-01T12:00:00.000Z' })
  at!: string;

  @ApiPropertyOptional({ description: 'the insight (sharedEventID)' })
  insightId?: string;

  @ApiPropertyOptional({ description: 'the delivered record (eventID)' })
  eventID?: string;
}

export class DeliveryListResponseDto {
  @ApiProperty({ type: [DeliveryAttemptDto], description: 'newest first' })
  items!: DeliveryAttemptDto[];
}
