import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TrailFileClients } from '@trailsight/cloudtrail';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { InsightOutboxRepository } from '@trailsight/findings';
import { EventBridgeInsightsOutput } from './eventbridge-insights.output.js';
import { InsightOutboxFlusher } from './insight-outbox.flusher.js';
import { S3InsightsOutput } from './s3-insights.output.js';

/** S3 objects stay far below CloudTrail's 50 MB per file; PutEvents takes 10 entries a request. */
const S3_BATCH = { records: 5_000, bytes: 32 * 1024 * 1024 };
const EVENTBRIDGE_BATCH = { records: 100, bytes: 4 * 1024 * 1024 };
const INTERVAL_PREFIX = 'insight-output:';

/**
 * The optional S3 and EventBridge outputs (INSIGHTS_S3_BUCKET, INSIGHTS_EVENTBRIDGE_BUS): a timer
 * per output in the detector flushes its outbox (see InsightOutboxFlusher). Every replica runs the
 * timers; the lease lets one of them flush at a time.
 */
@Injectable()
export class InsightOutputsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(InsightOutputsService.name);
  private readonly running = new Map<string, Promise<void>>();
  private clients?: TrailFileClients;
  private eventBridge?: EventBridgeClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: InsightOutboxRepository,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    for (const { flusher, everyMs } of this.flushers()) {
      this.scheduler.addInterval(
        `${INTERVAL_PREFIX}${flusher.sink}`,
        setInterval(() => this.run(flusher), everyMs),
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    for (const name of this.scheduler.getIntervals())
      if (name.startsWith(INTERVAL_PREFIX)) this.scheduler.deleteInterval(name);
    await Promise.all(this.running.values());
    this.clients?.destroy();
    this.eventBridge?.destroy();
  }

  private flushers(): { flusher: InsightOutboxFlusher; everyMs: number }[] {
    const config = this.config;
    const out: { flusher: InsightOutboxFlusher; everyMs: number }[] = [];
    if (config.insightsS3Bucket) {
      this.clients = new TrailFileClients(config);
      const output = new S3InsightsOutput(this.clients.s3(), config.insightsS3Bucket, config.insightsS3Prefix);
      const everyMs = config.insightsS3FlushSeconds * 1000;
      const flusher = new InsightOutboxFlusher(this.outbox, 's3', output, { ...S3_BATCH, leaseMs: leaseFor(everyMs) });
      out.push({ flusher, everyMs });
    }
    if (config.insightsEventBridgeBus) {
      this.eventBridge = new EventBridgeClient({
        region: config.insightsEventBridgeRegion,
        maxAttempts: 5,
        ...(config.insightsEventBridgeEndpoint ? { endpoint: config.insightsEventBridgeEndpoint } : {}),
      });
      const output = new EventBridgeInsightsOutput(this.eventBridge, { bus: config.insightsEventBridgeBus });
      const everyMs = config.insightsEventBridgeFlushSeconds * 1000;
      const settings = { ...EVENTBRIDGE_BATCH, leaseMs: leaseFor(everyMs) };
      out.push({ flusher: new InsightOutboxFlusher(this.outbox, 'eventbridge', output, settings), everyMs });
    }
    return out;
  }

  /** One flush; one still going (a slow upload) is not overlapped in this process. */
  private run(flusher: InsightOutboxFlusher): void {
    if (this.running.has(flusher.sink)) return;
    const run = flusher
      .flush()
      .then(() => undefined)
      .catch((error: unknown) => {
        // The batch stays sealed: the next flush sends it again.
        this.logger.warn(`${flusher.sink} output failed: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => this.running.delete(flusher.sink));
    this.running.set(flusher.sink, run);
  }
}

/** A lease long enough for one batch's delivery with the SDK's retries, renewed per batch. */
function leaseFor(everyMs: number): number {
  return Math.max(2 * everyMs, 60_000);
}
