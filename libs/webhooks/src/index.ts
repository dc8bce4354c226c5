export { InsightNotifier } from './delivery/insight-notifier.js';
export { WebhooksService } from './subscriptions/webhooks.service.js';
export { WebhooksApiModule } from './webhooks-api.module.js';
export { WebhooksDeliveryModule } from './webhooks-delivery.module.js';
export { WebhooksModule } from './webhooks.module.js';
