import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { APP_CONFIG, SecretDecryptionError, type AppConfig } from '@trailsight/core';
import type { JobName, JobOf } from '@trailsight/queue';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository.js';
import { insightPayload } from './formats/destination-payload.js';
import { WebhookSender } from './webhook.sender.js';

export type WebhookDeliveryData = JobOf<typeof JobName.WebhookDelivery>;

/** What one run of a delivery job came to (failures throw). */
export type DeliveryOutcome = 'delivered' | 'skipped' | 'wait-for-start';

/** An attempt failed and may be retried. */
class WebhookAttemptFailedError extends Error {
  override name = 'WebhookAttemptFailedError';
}

/**
 * Runs one attempt of a queued delivery. A delivery that fails after its last attempt counts
 * against the subscription: WEBHOOK_DISABLE_AFTER of them in a row disable it, with the reason.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly logger = new Logger(WebhookDeliveryService.name);

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly sender: WebhookSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `attempt` counts from 1; throws WebhookAttemptFailedError (retry) or UnrecoverableError (stop). */
  async deliver(data: WebhookDeliveryData, attempt: number, maxAttempts: number): Promise<DeliveryOutcome> {
    const { subscriptionId, deliveryId, event, record } = data;
    let found: Awaited<ReturnType<SubscriptionsRepository['getForDelivery']>>;
    try {
      found = await this.subscriptions.getForDelivery(subscriptionId);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      // Never sign with a wrong secret. Retried: setting the right SECRETS_KEY and restarting fixes it.
      const why = `cannot decrypt the secret of subscription ${subscriptionId}: ${error.message}`;
      this.logger.error(`webhook ${event} ${deliveryId}: ${why}`);
      if (attempt < maxAttempts) throw new WebhookAttemptFailedError(why);
      await this.subscriptions.countGivenUp();
      await this.startFinished(data);
      throw new UnrecoverableError(`delivery ${deliveryId} failed after ${attempt} attempts: ${why}`);
    }
    if (!found) {
      await this.startFinished(data);
      return 'skipped';
    }
    const { subscription, secret, previousSecret, routingKey } = found;
    if (!subscription.enabled) {
      await this.sender.skip(
        subscription,
        event,
        deliveryId,
        attempt,
        `subscription disabled: ${subscription.disabledReason ?? ''}`,
      );
      await this.startFinished(data);
      return 'skipped';
    }
    // Start before End: an End waits (without using an attempt) while its Start is on its way.
    if (event === 'insight.end' && (await this.subscriptions.isStartPending(subscriptionId, record.sharedEventID))) {
      return 'wait-for-start';
    }

    const { attempt: result, retryable } = await this.sender.send({
      subscription,
      secret,
      ...(previousSecret ? { previousSecret } : {}),
      event,
      deliveryId,
      payload: insightPayload(
        { type: subscription.type, routingKey, publicUrl: this.config.publicUrl },
        deliveryId,
        event,
        record,
        data.newActors,
      ),
      attempt,
      insight: { sharedEventID: record.sharedEventID, eventID: record.eventID },
    });
    if (result.outcome === 'delivered') {
      await this.subscriptions.recordDeliverySuccess(subscriptionId);
      await this.startFinished(data);
      return 'delivered';
    }

    const last = !retryable || attempt >= maxAttempts;
    if (!last) throw new WebhookAttemptFailedError(result.error ?? 'failed');
    const threshold = this.config.webhookDisableAfter;
    const reason = `disabled after ${threshold} consecutive failed deliveries; last: ${result.error ?? 'failed'}`;
    await this.subscriptions.countGivenUp();
    const counted = await this.subscriptions.recordDeliveryFailure(subscriptionId, threshold, reason);
    if (counted?.disabledNow) this.logger.warn(`webhook subscription ${subscriptionId} ${reason}`);
    await this.startFinished(data);
    throw new UnrecoverableError(
      `delivery ${deliveryId} failed after ${attempt} attempts: ${result.error ?? 'failed'}`,
    );
  }

  /** A Start that is done (delivered, given up or skipped) releases its End. */
  private async startFinished(data: WebhookDeliveryData): Promise<void> {
    if (data.event === 'insight.start') {
      await this.subscriptions.clearStartPending(data.subscriptionId, data.record.sharedEventID);
    }
  }
}
