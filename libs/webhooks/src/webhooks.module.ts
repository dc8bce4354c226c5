import { Module } from '@nestjs/common';
import { WebhooksApiModule } from './webhooks-api.module.js';
import { WebhooksDeliveryModule } from './webhooks-delivery.module.js';

/** Routes, notifier and delivery worker together: `npm start`'s single process. */
@Module({
  imports: [WebhooksApiModule, WebhooksDeliveryModule],
  exports: [WebhooksApiModule, WebhooksDeliveryModule],
})
export class WebhooksModule {}
