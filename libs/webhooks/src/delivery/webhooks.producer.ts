import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { JobName, QueueName, bullPrefix, producerConnectionOptions, type WebhookJobItem } from '@trailsight/queue';
import { WEBHOOK_BACKOFF_TYPE } from './webhook-backoff.js';
import { deliveryJobId } from './webhook-envelope.js';
import type { WebhookDeliveryData } from './webhook-delivery.service.js';

/** The only place that adds webhook deliveries to the queue. */
@Injectable()
export class WebhooksProducer implements OnModuleDestroy {
  private readonly logger = new Logger(WebhooksProducer.name);
  private queue?: Queue<WebhookJobItem['data'], unknown, WebhookJobItem['name']>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** One job per delivery, id derived from the delivery id: adding it twice is absorbed by BullMQ. */
  async enqueue(deliveries: WebhookDeliveryData[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.getQueue().addBulk(
      deliveries.map((data) => ({
        name: JobName.WebhookDelivery,
        data,
        opts: {
          jobId: deliveryJobId(data.deliveryId),
          attempts: this.config.webhookMaxAttempts,
          backoff: { type: WEBHOOK_BACKOFF_TYPE, delay: this.config.webhookBackoffMs },
          removeOnComplete: { age: 24 * 3600, count: 10_000 },
          // Failed deliveries stay for inspection, bounded: a dead subscriber must not fill Redis.
          removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
        },
      })),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue
      ?.close()
      .catch((error: unknown) => this.logger.warn(`closing the webhooks queue: ${String(error)}`));
  }

  private getQueue(): Queue<WebhookJobItem['data'], unknown, WebhookJobItem['name']> {
    this.queue ??= new Queue(QueueName.Webhooks, {
      connection: producerConnectionOptions(this.config.redisUrl),
      prefix: bullPrefix(this.config.redisPrefix),
    });
    return this.queue;
  }
}
