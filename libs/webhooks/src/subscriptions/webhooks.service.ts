import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { APP_CONFIG, redactUrl, SecretDecryptionError, type AppConfig } from '@trailsight/core';
import { FindingsRepository } from '@trailsight/findings';
import { JobName, JobProducer } from '@trailsight/queue';
import { pingPayload } from '../delivery/formats/destination-payload.js';
import type { WebhookDeliveryData } from '../delivery/webhook-delivery.service.js';
import { deliveryIdFor } from '../delivery/webhook-envelope.js';
import { WebhookSender } from '../delivery/webhook.sender.js';
import { UnsafeWebhookUrlError, WebhookUrlGuard } from '../safety/webhook-url.guard.js';
import { generateWebhookSecret } from '../signing/webhook-signer.js';
import type { CreateWebhookRequestDto, UpdateWebhookRequestDto } from './dto/webhook-request.dto.js';
import { SubscriptionsRepository } from './subscriptions.repository.js';
import {
  PAGERDUTY_EVENTS_URL,
  WEBHOOK_EVENT_TYPES,
  subscriptionMatches,
  type DeliveryAttempt,
  type WebhookFilter,
  type WebhookSubscription,
} from './webhook-subscription.js';

/** At most this many insight events are replayed when a disabled subscription is re-enabled. */
const MAX_REPLAYED_DELIVERIES = 100;

/** Subscription management for the API: create, read, change, delete, test, delivery log. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly guard: WebhookUrlGuard,
    private readonly sender: WebhookSender,
    private readonly findings: FindingsRepository,
    private readonly jobs: JobProducer,
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

  /** The change; with `enabled: true, replayMissed: true` on a disabled subscription, also how many deliveries were replayed. */
  async update(
    id: string,
    request: UpdateWebhookRequestDto,
  ): Promise<{ subscription: WebhookSubscription; replayed?: number }> {
    if (request.url !== undefined) await this.checkUrl(request.url);
    if (request.replayMissed && request.enabled !== true) {
      throw new BadRequestException(
        'replayMissed needs enabled: true (it replays what a disabled subscription missed)',
      );
    }
    const before = await this.get(id);
    if (request.routingKey !== undefined && (await this.get(id)).type !== 'pagerduty') {
      throw new BadRequestException('routingKey is for pagerduty subscriptions only');
    }
    const { replayMissed, ...changes } = request;
    const updated = orNotFound(
      id,
      await this.subscriptions.update(id, {
        ...changes,
        ...(changes.filter === undefined ? {} : { filter: cleanFilter(changes.filter) }),
      }),
    );
    if (!replayMissed || before.enabled || !before.disabledAt) return { subscription: updated };
    return { subscription: updated, replayed: await this.replayMissed(updated, before.disabledAt) };
  }

  /**
   * Re-delivers what a subscription missed while disabled: the Start and End records of the
   * findings that started or ended since it was disabled and match it now, newest first, at most
   * MAX_REPLAYED_DELIVERIES. Each gets a delivery id of its own (the same on a repeated replay of
   * the same outage), so receivers that dedupe on `id` see them as new.
   */
  private async replayMissed(subscription: WebhookSubscription, disabledAt: string): Promise<number> {
    const since = Date.parse(disabledAt);
    const deliveries: WebhookDeliveryData[] = [];
    let cursor: string | undefined;
    // Findings that ended in the window may have started before it: look back the longest insight's span.
    do {
      const page = await this.findings.list({
        since: since - 24 * 3600_000,
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      for (const finding of page.items) {
        const { start, end } = finding.records;
        for (const [event, record] of [
          ['insight.end', end],
          ['insight.start', start],
        ] as const) {
          if (!record || Date.parse(record.eventTime) < since) continue;
          if (!subscriptionMatches(subscription, event, record, finding.newActors)) continue;
          if (deliveries.length >= MAX_REPLAYED_DELIVERIES) break;
          deliveries.push({
            subscriptionId: subscription.id,
            deliveryId: deliveryIdFor(subscription.id, `${record.eventID}/replay/${disabledAt}`),
            event,
            record,
          });
        }
      }
      cursor = page.nextCursor;
    } while (cursor && deliveries.length < MAX_REPLAYED_DELIVERIES);
    const fresh = await this.subscriptions.notYetEnqueued(deliveries.map((d) => d.deliveryId));
    const todo = deliveries.filter((d) => fresh.has(d.deliveryId));
    await this.jobs.queueAll(todo.map((data) => ({ name: JobName.WebhookDelivery, data })));
    await this.subscriptions.markEnqueued(todo.map((d) => d.deliveryId));
    this.logger.log(`webhook subscription ${subscription.id} re-enabled: ${todo.length} missed deliveries replayed`);
    return todo.length;
  }

  /**
   * Sends a logged insight delivery again, now, as a new delivery (its own id) of the same record.
   * The record comes from the stored finding.
   */
  async redeliver(id: string, deliveryId: string): Promise<{ deliveryId: string; event: string; insightId: string }> {
    const subscription = await this.get(id);
    if (!subscription.enabled) {
      throw new ConflictException(`webhook subscription ${id} is disabled: re-enable it first`);
    }
    const logged = (await this.subscriptions.attempts(id, this.config.webhookLogSize)).find(
      (a) => a.deliveryId === deliveryId,
    );
    if (!logged) throw new NotFoundException(`delivery ${deliveryId} is not in the delivery log of ${id}`);
    if (logged.event === 'ping' || !logged.insightId) {
      throw new BadRequestException(`delivery ${deliveryId} is a test ping: POST /v1/webhooks/${id}/test instead`);
    }
    const finding = await this.findings.get(logged.insightId);
    const record = logged.event === 'insight.start' ? finding?.records.start : finding?.records.end;
    if (!record)
      throw new NotFoundException(`the finding ${logged.insightId} of delivery ${deliveryId} is no longer stored`);
    const again = randomUUID();
    await this.jobs.queueAll([
      { name: JobName.WebhookDelivery, data: { subscriptionId: id, deliveryId: again, event: logged.event, record } },
    ]);
    this.logger.log(`webhook ${logged.event} ${deliveryId} to ${id} redelivered as ${again}`);
    return { deliveryId: again, event: logged.event, insightId: logged.insightId };
  }

  /**
   * A new secret (given, or generated): deliveries are signed with it and, for
   * WEBHOOK_SECRET_GRACE_HOURS, with the old one as a second `v1=`.
   */
  async rotateSecret(id: string, secret?: string): Promise<{ secret: string; previousSecretValidUntil: string }> {
    const found = await this.subscriptions.getForDelivery(id).catch((error: unknown) => {
      if (!(error instanceof SecretDecryptionError)) throw error;
      throw new ConflictException(`the secret of webhook subscription ${id} cannot be decrypted (${error.message})`);
    });
    if (!found) throw notFound(id);
    const next = secret ?? generateWebhookSecret();
    const until = new Date(Date.now() + this.config.webhookSecretGraceHours * 3600_000);
    if (!(await this.subscriptions.rotateSecret(id, next, found.secret, until))) throw notFound(id);
    this.logger.log(`webhook subscription ${id}: secret rotated, the old one signs too until ${until.toISOString()}`);
    return { secret: next, previousSecretValidUntil: until.toISOString() };
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
    const { subscription, secret, previousSecret, routingKey } = found;
    const { attempt } = await this.sender.send({
      subscription,
      secret,
      ...(previousSecret ? { previousSecret } : {}),
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
