import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequireScope, ApiKeyErrorResponses } from '@trailsight/core';
import {
  CreateWebhookRequestDto,
  ListDeliveriesQueryDto,
  RotateSecretRequestDto,
  UpdateWebhookRequestDto,
} from './dto/webhook-request.dto.js';
import {
  CreatedWebhookResponseDto,
  DeliveryAttemptDto,
  DeliveryListResponseDto,
  RedeliveryResponseDto,
  RotatedSecretResponseDto,
  UpdatedWebhookResponseDto,
  WebhookListResponseDto,
  WebhookResponseDto,
} from './dto/webhook-response.dto.js';
import { WebhooksService } from './webhooks.service.js';

const id = () => Param('id', new ParseUUIDPipe({ version: '4' }));

@ApiTags('webhooks')
@ApiBearerAuth('api-key')
@ApiKeyErrorResponses()
@RequireScope('admin')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Subscribe a URL (webhook, Slack, Teams) or a PagerDuty routing key to insight.start / insight.end',
  })
  @ApiBody({
    type: CreateWebhookRequestDto,
    examples: {
      webhook: {
        summary: 'signed EventBridge envelope',
        value: { url: 'https://hooks.example.com/trailsight', filter: { eventSource: ['iam.amazonaws.com'] } },
      },
      slack: {
        summary: 'Slack incoming webhook (Block Kit)',
        value: { type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXX', events: ['insight.start'] },
      },
      teams: {
        summary: 'Teams Workflows webhook (Adaptive Card)',
        value: {
          type: 'teams',
          url: 'https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke',
        },
      },
      pagerduty: {
        summary: 'PagerDuty Events API v2 (trigger on Start, resolve on End)',
        value: { type: 'pagerduty', routingKey: 'R0123456789abcdef0123456789abcde' },
      },
    },
  })
  @ApiCreatedResponse({ type: CreatedWebhookResponseDto, description: 'the secret is shown in this response only' })
  @ApiBadRequestResponse({
    description: 'invalid input, a port outside WEBHOOK_ALLOWED_PORTS, or a URL that resolves to a refused address',
  })
  async create(@Body() body: CreateWebhookRequestDto): Promise<CreatedWebhookResponseDto> {
    const { subscription, secret } = await this.webhooks.create(body);
    return CreatedWebhookResponseDto.withSecret(subscription, secret);
  }

  @Get()
  @ApiOperation({ summary: 'List subscriptions (without secrets)' })
  @ApiOkResponse({ type: WebhookListResponseDto })
  async list(): Promise<WebhookListResponseDto> {
    return { items: (await this.webhooks.list()).map((s) => WebhookResponseDto.from(s)) };
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiNotFoundResponse()
  async get(@id() subscriptionId: string): Promise<WebhookResponseDto> {
    return WebhookResponseDto.from(await this.webhooks.get(subscriptionId));
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Change a subscription; `enabled: true` re-enables it and clears its failures, ' +
      '`replayMissed: true` with it also delivers what it missed while disabled (newest first, at most 100)',
  })
  @ApiBody({
    type: UpdateWebhookRequestDto,
    examples: {
      reenable: { summary: 're-enable and replay what was missed', value: { enabled: true, replayMissed: true } },
      routingKey: { summary: 'a new PagerDuty routing key', value: { routingKey: 'R0123456789abcdef0123456789abcde' } },
    },
  })
  @ApiOkResponse({ type: UpdatedWebhookResponseDto })
  @ApiBadRequestResponse({ description: 'invalid input; replayMissed without enabled: true' })
  @ApiNotFoundResponse()
  async update(
    @id() subscriptionId: string,
    @Body() body: UpdateWebhookRequestDto,
  ): Promise<UpdatedWebhookResponseDto> {
    const { subscription, replayed } = await this.webhooks.update(subscriptionId, body);
    return Object.assign(new UpdatedWebhookResponseDto(), subscription, replayed === undefined ? {} : { replayed });
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Replace the signing secret; for WEBHOOK_SECRET_GRACE_HOURS deliveries carry both signatures (two v1= values)',
  })
  @ApiBody({ type: RotateSecretRequestDto, required: false, examples: { generated: { value: {} } } })
  @ApiOkResponse({ type: RotatedSecretResponseDto, description: 'the new secret is shown in this response only' })
  @ApiBadRequestResponse({ description: 'a secret outside 16-256 characters' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'the current secret cannot be decrypted with this SECRETS_KEY' })
  async rotateSecret(
    @id() subscriptionId: string,
    @Body() body: RotateSecretRequestDto,
  ): Promise<RotatedSecretResponseDto> {
    return this.webhooks.rotateSecret(subscriptionId, body?.secret);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a logged insight delivery again, as a new delivery of the same record' })
  @ApiAcceptedResponse({ type: RedeliveryResponseDto })
  @ApiBadRequestResponse({ description: 'the delivery is a test ping' })
  @ApiNotFoundResponse({ description: 'no such subscription, delivery in its log, or stored finding' })
  @ApiConflictResponse({ description: 'the subscription is disabled' })
  async redeliver(
    @id() subscriptionId: string,
    @Param('deliveryId', new ParseUUIDPipe()) deliveryId: string,
  ): Promise<RedeliveryResponseDto> {
    return this.webhooks.redeliver(subscriptionId, deliveryId);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async delete(@id() subscriptionId: string): Promise<void> {
    await this.webhooks.delete(subscriptionId);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a signed ping now and report how the subscriber answered' })
  @ApiOkResponse({ type: DeliveryAttemptDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: "the subscription's secret cannot be decrypted with this SECRETS_KEY" })
  async test(@id() subscriptionId: string): Promise<DeliveryAttemptDto> {
    return this.webhooks.test(subscriptionId);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Delivery attempts, newest first (status, latency, error)' })
  @ApiOkResponse({ type: DeliveryListResponseDto })
  @ApiNotFoundResponse()
  async deliveries(
    @id() subscriptionId: string,
    @Query() query: ListDeliveriesQueryDto,
  ): Promise<DeliveryListResponseDto> {
    return { items: await this.webhooks.deliveries(subscriptionId, query.limit) };
  }
}
