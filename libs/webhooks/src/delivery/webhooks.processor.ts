import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { JobName, QueueName, type WebhookJobItem, WORKER_NAME } from '@trailsight/queue';
import { webhookBackoff } from './webhook-backoff.js';
import { WebhookDeliveryService, type DeliveryOutcome } from './webhook-delivery.service.js';

/** How often an End re-checks whether its Start has been delivered. */
const START_WAIT_MS = 1_000;

/**
 * Consumes the webhooks queue with WEBHOOK_CONCURRENCY deliveries at a time, so a slow or
 * hanging subscriber holds one slot (for at most WEBHOOK_TIMEOUT_MS), never the queue.
 */
@Processor(QueueName.Webhooks, { settings: { backoffStrategy: webhookBackoff }, name: WORKER_NAME })
export class WebhooksProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhooksProcessor.name);

  constructor(
    private readonly deliveries: WebhookDeliveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // @Processor options are static; the concurrency comes from the validated config.
    this.worker.concurrency = this.config.webhookConcurrency;
    this.logger.log(`delivering webhooks with ${this.config.webhookConcurrency} concurrent deliveries`);
  }

  async process(
    job: Job<WebhookJobItem['data'], DeliveryOutcome, WebhookJobItem['name']>,
    token?: string,
  ): Promise<DeliveryOutcome> {
    const name = job.name;
    switch (name) {
      case JobName.WebhookDelivery: {
        const outcome = await this.deliveries.deliver(job.data, job.attemptsMade + 1, job.opts.attempts ?? 1);
        if (outcome === 'wait-for-start') {
          await job.moveToDelayed(Date.now() + START_WAIT_MS, token);
          throw new DelayedError();
        }
        return outcome;
      }
      default: {
        const unknown: never = name;
        throw new Error(`unknown job ${String(unknown)} on queue ${QueueName.Webhooks}`);
      }
    }
  }
}
