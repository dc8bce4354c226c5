import { Injectable, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { replicaWaitTimeouts } from '../redis/durable-write.js';
import { packageVersion } from './package-version.js';

/** Latency buckets (seconds) for calls to other services: 5 ms to 30 s. */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** An evaluation run judges every account-region's closed minutes: 10 ms to 2 min. */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** HTTP answers of this process: 1 ms to 10 s. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * This process's own metrics, on its own prom-client registry (never the global one, so two apps
 * in one test process do not share or collide): Node and process defaults, `trailsight_build_info`
 * and the latency histograms. Every process serves them at `GET /metrics`; each replica reports
 * only what it did itself, so `sum()` over replicas is right for all of them.
 */
@Injectable()
export class ProcessMetrics implements OnModuleInit {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'trailsight_http_request_duration_seconds',
    help: 'HTTP requests this process answered, by method, route template (unmatched: no route) and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  readonly lookupEventsDuration = new Histogram({
    name: 'trailsight_lookup_events_request_duration_seconds',
    help: 'LookupEvents requests this process sent, by outcome (ok, throttled, error).',
    labelNames: ['outcome'] as const,
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  });

  readonly evaluationDuration = new Histogram({
    name: 'trailsight_evaluation_run_duration_seconds',
    help: 'Evaluator runs (every account-region with closed minutes) this process performed.',
    buckets: RUN_BUCKETS,
    registers: [this.registry],
  });

  readonly webhookDeliveryDuration = new Histogram({
    name: 'trailsight_webhook_delivery_duration_seconds',
    help: 'Webhook delivery attempts this process sent, by destination type and outcome (delivered, failed).',
    labelNames: ['type', 'outcome'] as const,
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  });

  onModuleInit(): void {
    // Here rather than in the constructor: the default collectors start an event-loop monitor.
    collectDefaultMetrics({ register: this.registry });
    // Module-level (the durable writes of every repository count into it), shown by this registry.
    this.registry.registerMetric(replicaWaitTimeouts);
    new Gauge({
      name: 'trailsight_build_info',
      help: 'Always 1; the labels say which build this process runs.',
      labelNames: ['version', 'node_version'] as const,
      registers: [this.registry],
    }).set({ version: packageVersion(), node_version: process.version }, 1);
  }
}
