import { Module } from '@nestjs/common';
import { WebhooksController } from './subscriptions/webhooks.controller.js';
import { WebhooksService } from './subscriptions/webhooks.service.js';
import { WebhooksStoreModule } from './webhooks-store.module.js';

/** The api process's side: /v1/webhooks routes. Consumes no deliveries. */
@Module({
  imports: [WebhooksStoreModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
  exports: [WebhooksService],
})
export class WebhooksApiModule {}
