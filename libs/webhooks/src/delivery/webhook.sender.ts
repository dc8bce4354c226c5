import { Logger } from '@nestjs/common';
import { redactUrl } from '@trailsight/core';
import { signatureHeader } from '../signing/webhook-signer.js';
import type { SubscriptionsRepository } from '../subscriptions/subscriptions.repository.js';
import type { DeliveryAttempt, WebhookEvent, WebhookSubscription } from '../subscriptions/webhook-subscription.js';
import { maxBodyBytes } from './formats/destination-payload.js';
import type { WebhookHttpClient } from './webhook-http.client.js';

export interface SendRequest {
  subscription: WebhookSubscription;
  secret: string;
  /** A rotated-out secret still in its grace period: signs as a second `v1=`. */
  previousSecret?: string;
  event: WebhookEvent;
  deliveryId: string;
  /** The body, in the subscription type's format (JSON-encoded here). */
  payload: unknown;
  attempt: number;
  /** The insight (sharedEventID) and record (eventID) delivered; absent for pings. */
  insight?: { sharedEventID: string; eventID: string };
}

/**
 * Signs and sends one attempt and logs it (delivery log in Redis plus one log line): the single
 * code path of queued deliveries and of POST /v1/webhooks/{id}/test.
 */
export class WebhookSender {
  private readonly logger = new Logger(WebhookSender.name);

  constructor(
    private readonly http: WebhookHttpClient,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly options: {
      timeoutMs: number;
      logSize: number;
      /** Each attempt sent, by destination type and outcome (the process's latency histogram). */
      latency?: { observe(labels: { type: string; outcome: string }, seconds: number): void };
    },
  ) {}

  /** `retryable` is false when another attempt cannot succeed (body too large, address refused). */
  async send(request: SendRequest): Promise<{ attempt: DeliveryAttempt; retryable: boolean }> {
    const { subscription, event, deliveryId } = request;
    const at = new Date();
    const body = JSON.stringify(request.payload);
    const base = {
      deliveryId,
      event,
      attempt: request.attempt,
      at: at.toISOString(),
      ...(request.insight ? { insightId: request.insight.sharedEventID, eventID: request.insight.eventID } : {}),
    };
    let attempt: DeliveryAttempt;
    let retryable = true;
    const size = Buffer.byteLength(body);
    const max = maxBodyBytes(subscription.type);
    if (size > max) {
      attempt = {
        ...base,
        outcome: 'failed',
        latencyMs: 0,
        error: `body of ${size} bytes exceeds ${max}`,
      };
      retryable = false;
    } else {
      const result = await this.http.post({
        url: subscription.url,
        body,
        timeoutMs: this.options.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Trailsight-Webhooks/1',
          'x-trailsight-event': event,
          'x-trailsight-delivery': deliveryId,
          'x-trailsight-signature': signatureHeader(
            request.previousSecret ? [request.secret, request.previousSecret] : request.secret,
            body,
            at.getTime(),
          ),
        },
      });
      attempt = {
        ...base,
        outcome: result.ok ? 'delivered' : 'failed',
        ...(result.status === undefined ? {} : { status: result.status }),
        latencyMs: result.latencyMs,
        ...(result.error === undefined ? {} : { error: result.error }),
      };
      if (result.refused) retryable = false;
      this.options.latency?.observe({ type: subscription.type, outcome: attempt.outcome }, result.latencyMs / 1000);
    }
    await this.subscriptions.appendAttempt(subscription.id, attempt, this.options.logSize);
    const line = `webhook ${event} ${deliveryId} to ${subscription.id} (${redactUrl(subscription.url)}) attempt ${attempt.attempt}: ${attempt.outcome}`;
    const how = `${attempt.status ?? '-'} in ${attempt.latencyMs} ms${attempt.error ? `: ${attempt.error}` : ''}`;
    if (attempt.outcome === 'delivered') this.logger.debug(`${line} ${how}`);
    else this.logger.warn(`${line} ${how}`);
    return { attempt, retryable };
  }

  /** Logs a delivery that was not attempted (subscription disabled). */
  async skip(
    subscription: WebhookSubscription,
    event: WebhookEvent,
    deliveryId: string,
    attempt: number,
    why: string,
  ): Promise<void> {
    await this.subscriptions.appendAttempt(
      subscription.id,
      { deliveryId, event, attempt, outcome: 'skipped', latencyMs: 0, error: why, at: new Date().toISOString() },
      this.options.logSize,
    );
    this.logger.log(`webhook ${event} ${deliveryId} to ${subscription.id} skipped: ${why}`);
  }
}
