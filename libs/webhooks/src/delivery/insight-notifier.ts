import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import type { InsightRecord } from '@trailsight/domain';
import { FindingsRepository } from '@trailsight/findings';
import { JobName, JobProducer } from '@trailsight/queue';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository.js';
import { subscriptionMatches } from '../subscriptions/webhook-subscription.js';
import { endSilencedByTriage, isStaleStart, mutedBySuppression } from './delivery-rules.js';
import { deliveryIdFor } from './webhook-envelope.js';
import type { WebhookDeliveryData } from './webhook-delivery.service.js';

/**
 * What the evaluator calls when an insight starts or ends: one delivery job per enabled
 * subscription whose events and filter match. Idempotent: a delivery's id (and job id) comes
 * from (subscription, record eventID), and a delivery enqueued once is never enqueued again,
 * so a retried evaluator run does not deliver twice. Resolves once Redis has the jobs.
 * The delivery rules (./delivery-rules.ts) hold some insights back from every subscription.
 */
@Injectable()
export class InsightNotifier {
  private readonly logger = new Logger(InsightNotifier.name);

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly jobs: JobProducer,
    private readonly findings: FindingsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async notify(event: 'insight.start' | 'insight.end', record: InsightRecord): Promise<void> {
    if (mutedBySuppression(await this.findings.suppressedBy(record.sharedEventID))) {
      this.logger.debug(`${event} ${record.sharedEventID}: suppressed, not delivered`);
      return;
    }
    if (event === 'insight.end' && endSilencedByTriage(await this.findings.triageOf(record.sharedEventID))) {
      this.logger.debug(`insight.end ${record.sharedEventID}: not delivered, the finding was triaged`);
      return;
    }
    if (await this.isCatchUp(event, record)) return;
    const subscriptions = await this.subscriptions.list();
    if (!subscriptions.some((s) => s.enabled && s.events.includes(event))) return;
    const newActors = (await this.findings.get(record.sharedEventID))?.newActors;
    const matching = subscriptions.filter((s) => subscriptionMatches(s, event, record, newActors));
    if (matching.length === 0) return;
    const deliveries: WebhookDeliveryData[] = matching.map((subscription) => ({
      subscriptionId: subscription.id,
      deliveryId: deliveryIdFor(subscription.id, record.eventID),
      event,
      record,
      ...(newActors ? { newActors } : {}),
    }));
    const fresh = await this.subscriptions.notYetEnqueued(deliveries.map((d) => d.deliveryId));
    const todo = deliveries.filter((d) => fresh.has(d.deliveryId));
    if (todo.length === 0) return;
    // The Start marker goes first: an End enqueued right after must already see it.
    if (event === 'insight.start') {
      await this.subscriptions.markStartPending(
        todo.map((d) => ({ subscriptionId: d.subscriptionId, sharedEventID: record.sharedEventID })),
      );
    }
    await this.jobs.queueAll(todo.map((data) => ({ name: JobName.WebhookDelivery, data })));
    await this.subscriptions.markEnqueued(todo.map((d) => d.deliveryId));
    this.logger.debug(`${event} ${record.sharedEventID}: ${todo.length} webhook deliveries enqueued`);
  }

  /** The catch-up rule: a Start found too late is held back, and so is its End. */
  private async isCatchUp(event: 'insight.start' | 'insight.end', record: InsightRecord): Promise<boolean> {
    if (event === 'insight.start') {
      if (!isStaleStart(record, this.config.webhookMaxInsightAgeMinutes, Date.now())) return false;
      await this.subscriptions.markCaughtUp(record.sharedEventID);
      this.logger.log(
        `insight ${record.sharedEventID} began at ${record.eventTime}, over WEBHOOK_MAX_INSIGHT_AGE_MINUTES=` +
          `${this.config.webhookMaxInsightAgeMinutes} ago: stored, not delivered (catch-up)`,
      );
      return true;
    }
    return this.subscriptions.isCaughtUp(record.sharedEventID);
  }
}
