import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequireScope } from '@trailsight/core';
import { CreateWebhookRequestDto, ListDeliveriesQueryDto, UpdateWebhookRequestDto } from './dto/webhook-request.dto.js';
import {
  CreatedWebhookResponseDto,
  DeliveryAttemptDto,
  DeliveryListResponseDto,
  WebhookListResponseDto,
  WebhookResponseDto,
} from './dto/webhook-response.dto.js';
import { WebhooksService } from './webhooks.service.js';

const id = () => Param('id', new ParseUUIDPipe({ version: '4' }));

@ApiTags('webhooks')
@ApiBearerAuth('api-key')
@RequireScope('admin')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Subscribe a URL to insight.start / insight.end deliveries' })
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
  @ApiOperation({ summary: 'Change a subscription; `enabled: true` re-enables it and clears its failures' })
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiNotFoundResponse()
  async update(@id() subscriptionId: string, @Body() body: UpdateWebhookRequestDto): Promise<WebhookResponseDto> {
    return WebhookResponseDto.from(await this.webhooks.update(subscriptionId, body));
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
