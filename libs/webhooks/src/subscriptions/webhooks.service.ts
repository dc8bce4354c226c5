import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { APP_CONFIG, redactUrl, SecretDecryptionError, type AppConfig } from '@trailsight/core';
import { pingPayload } from '../delivery/formats/destination-payload.js';
import { WebhookSender } from '../delivery/webhook.sender.js';
import { UnsafeWebhookUrlError, WebhookUrlGuard } from '../safety/webhook-url.guard.js';
import { generateWebhookSecret } from '../signing/webhook-signer.js';
import type { CreateWebhookRequestDto, UpdateWebhookRequestDto } from './dto/webhook-request.dto.js';
import { SubscriptionsRepository } from './subscriptions.repository.js';
import {
  PAGERDUTY_EVENTS_URL,
  WEBHOOK_EVENT_TYPES,
  type DeliveryAttempt,
  type WebhookFilter,
  type WebhookSubscription,
} from './webhook-subscription.js';

/** Subscription management for the API: create, read, change, delete, test, delivery log. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly guard: WebhookUrlGuard,
    private readonly sender: WebhookSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The new subscription and its secret (generated when none was given): shown this once. */
  async create(request: CreateWebhookRequestDto): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const type = request.type ?? 'webhook';
    if (type !== 'pagerduty' && request.routingKey !== undefined) {
      throw new BadRequestException('routingKey is for pagerduty subscriptions only');
    }
    const url = request.url ?? PAGERDUTY_EVENTS_URL;
    await this.checkUrl(url);
    const now = new Date().toISOString();
    const subscription: WebhookSubscription = {
      id: randomUUID(),
      type,
      url,
      ...(request.description ? { description: request.description } : {}),
      events: request.events ?? [...WEBHOOK_EVENT_TYPES],
      filter: cleanFilter(request.filter),
      enabled: request.enabled ?? true,
      ...(request.enabled === false ? { disabledReason: 'disabled by a user', disabledAt: now } : {}),
      consecutiveFailures: 0,
      createdAt: now,
      updatedAt: now,
    };
    const secret = request.secret ?? generateWebhookSecret();
    await this.subscriptions.create(subscription, secret, request.routingKey);
    this.logger.log(`webhook subscription ${subscription.id} created for ${redactUrl(subscription.url)}`);
    return { subscription, secret };
  }

  list(): Promise<WebhookSubscription[]> {
    return this.subscriptions.list();
  }

  async get(id: string): Promise<WebhookSubscription> {
    return orNotFound(id, await this.subscriptions.get(id));
  }

  async update(id: string, request: UpdateWebhookRequestDto): Promise<WebhookSubscription> {
    if (request.url !== undefined) await this.checkUrl(request.url);
    if (request.routingKey !== undefined && (await this.get(id)).type !== 'pagerduty') {
      throw new BadRequestException('routingKey is for pagerduty subscriptions only');
    }
    const updated = await this.subscriptions.update(id, {
      ...request,
      ...(request.filter === undefined ? {} : { filter: cleanFilter(request.filter) }),
    });
    return orNotFound(id, updated);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.subscriptions.delete(id))) throw notFound(id);
  }

  /** Sends a signed `ping` now (one attempt, logged with the deliveries), enabled or not. */
  async test(id: string): Promise<DeliveryAttempt> {
    const found = await this.subscriptions.getForDelivery(id).catch((error: unknown) => {
      if (!(error instanceof SecretDecryptionError)) throw error;
      throw new ConflictException(
        `the secret of webhook subscription ${id} cannot be decrypted (${error.message}): ` +
          'start with the SECRETS_KEY it was stored under, or PATCH a new secret',
      );
    });
    if (!found) throw notFound(id);
    const deliveryId = randomUUID();
    const { subscription, secret, routingKey } = found;
    const { attempt } = await this.sender.send({
      subscription,
      secret,
      event: 'ping',
      deliveryId,
      payload: pingPayload({ type: subscription.type, routingKey }, deliveryId, id),
      attempt: 1,
    });
    return attempt;
  }

  async deliveries(id: string, limit = 50): Promise<DeliveryAttempt[]> {
    await this.get(id);
    return this.subscriptions.attempts(id, Math.min(limit, this.config.webhookLogSize));
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await this.guard.check(url);
    } catch (error) {
      if (error instanceof UnsafeWebhookUrlError) {
        this.logger.warn(`webhook url ${redactUrl(url)} refused: ${error.detail}`);
        throw new BadRequestException(error.message);
      }
      throw error;
    }
  }
}

function cleanFilter(filter: WebhookFilter | undefined): WebhookFilter {
  const clean: WebhookFilter = {};
  for (const [key, values] of Object.entries(filter ?? {}) as Array<[keyof WebhookFilter, string[] | undefined]>) {
    if (values && values.length > 0) (clean as Record<string, string[]>)[key] = [...new Set(values)];
  }
  return clean;
}

function notFound(id: string): NotFoundException {
  return new NotFoundException(`webhook subscription ${id} not found`);
}

function orNotFound(id: string, subscription: WebhookSubscription | undefined): WebhookSubscription {
  if (!subscription) throw notFound(id);
  return subscription;
}
