import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig, ProcessMetrics } from '@trailsight/core';
import { type AccountRegion, accountRegionKey, EventsSink } from '@trailsight/domain';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { sleep } from './backoff.js';
import { CheckpointRepository } from './checkpoint.repository.js';
import { CloudTrailClientFactory } from './cloudtrail-client.factory.js';
import {
  LookupEventsSource,
  type LiveTailTimer,
  type LookupEventsSettings,
  type LookupEventsStats,
} from './lookup-events.source.js';
import { PollLeaseRepository } from './poll-lease.repository.js';
import { TokenBucketRepository } from './token-bucket.repository.js';

/** A replica that dies loses its account-regions after this long. */
const POLL_LEASE_TTL_MS = 30_000;
/** Leases are renewed (and free ones taken) this often: three chances per ttl. */
const POLL_LEASE_RENEW_MS = 10_000;

/** LookupEventsSource settings from the configuration. */
export function lookupEventsSettings(config: AppConfig): LookupEventsSettings {
  return {
    ratePerSecond: config.lookupEventsRate,
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    overlapMs: config.pollOverlapMinutes * 60_000,
    backfillMs: config.backfillDays * 86_400_000,
    batchSize: config.batchSize,
  };
}

interface Held {
  source: AccountRegion;
  client: CloudTrailClient;
  runner: LookupEventsSource;
}

export interface PollerLeaseOptions {
  ttlMs: number;
  renewMs: number;
}

/**
 * Polls LookupEvents for every configured (account, region) this replica holds the lease of.
 * One lease-keeping loop (take free leases, renew held ones, stop a source whose lease was lost)
 * and one LookupEventsSource loop per held account-region, its live tail ticked by an interval
 * in the SchedulerRegistry (`live-tail:<account>:<region>`), all started on application bootstrap
 * and ended in onModuleDestroy: before the queue producer (a global module) closes its connection
 * and before RedisService closes the command connection, so no loop outlives what it writes to.
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PollerService.name);
  /** Unique per process: a restarted replica does not inherit its predecessor's leases. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly held = new Map<string, Held>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private leaseOptions: PollerLeaseOptions = { ttlMs: POLL_LEASE_TTL_MS, renewMs: POLL_LEASE_RENEW_MS };
  private registered = false;
  private loopEnded = false;
  /** Completed lease rounds (for health and tests). */
  leaseRounds = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly producer: EventsSink,
    private readonly rejects: RejectsRepository,
    private readonly bucket: TokenBucketRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly leases: PollLeaseRepository,
    private readonly clients: CloudTrailClientFactory,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: ProcessMetrics,
  ) {}

  /** Every configured account-region. */
  sources(): AccountRegion[] {
    return this.config.accounts.flatMap(({ accountId }) =>
      this.config.regions.map((region) => ({ accountId, region })),
    );
  }

  /** Shorter leases for tests. Call before the application starts. */
  configureLeases(options: PollerLeaseOptions): void {
    this.leaseOptions = options;
  }

  onApplicationBootstrap(): void {
    if (!this.polls()) {
      this.logger.log(`CLOUDTRAIL_SOURCE=${this.config.source}: no LookupEvents polling`);
      return;
    }
    this.logger.log(`polling ${this.sources().length} account-region(s) as ${this.owner}`);
    this.loop = this.keepLeases(this.abort.signal).finally(() => {
      this.loopEnded = true;
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.abort.abort();
    await this.loop;
    const held = [...this.held.values()];
    this.held.clear();
    await Promise.all(held.map((entry) => this.release(entry)));
  }

  /** False once the lease-keeping loop has ended (it runs until shutdown): /health/ready. */
  running(): boolean {
    return this.loop === undefined ? !this.polls() : !this.loopEnded;
  }

  private polls(): boolean {
    return this.config.source === 'aws' || this.config.source === 'simulator';
  }

  /** Stats of the account-regions this replica polls now. */
  stats(): Array<AccountRegion & LookupEventsStats> {
    return [...this.held.values()].map(({ source, runner }) => ({ ...source, ...runner.stats() }));
  }

  /** The running source of an account-region, when this replica holds it. */
  sourceOf(source: AccountRegion): LookupEventsSource | undefined {
    return this.held.get(accountRegionKey(source))?.runner;
  }

  private async keepLeases(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.tick();
        this.leaseRounds++;
      } catch (error) {
        // Redis is down: held sources carry on (they retry on their own), leases are tried again.
        this.logger.warn(`lease round failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      await sleep(this.leaseOptions.renewMs, signal);
    }
  }

  private async tick(): Promise<void> {
    const { ttlMs } = this.leaseOptions;
    if (!this.registered) {
      await this.checkpoints.registerSources(this.sources());
      this.registered = true;
    }
    for (const source of this.sources()) {
      if (this.abort.signal.aborted) return;
      const key = accountRegionKey(source);
      const held = this.held.get(key);
      if (held) {
        if (await this.leases.renew(source, this.owner, ttlMs)) continue;
        this.logger.warn(`lost the lease of ${key}: another replica polls it now`);
        this.held.delete(key);
        await held.runner.stop();
        held.client.destroy();
        continue;
      }
      if (!(await this.leases.acquire(source, this.owner, ttlMs))) continue;
      const client = this.clients.create(source);
      const latency = this.metrics.lookupEventsDuration;
      const settings = {
        ...lookupEventsSettings(this.config),
        onRequest: (seconds: number, outcome: string) => latency.observe({ outcome }, seconds),
      };
      const runner = new LookupEventsSource(
        source,
        client,
        this.bucket,
        this.checkpoints,
        this.producer,
        this.rejects,
        settings,
        this.liveTailTimer(key),
      );
      this.held.set(key, { source, client, runner });
      this.logger.log(`took the lease of ${key}`);
      runner.start();
    }
  }

  /** The live tail's interval of one account-region, registered by name while its source runs. */
  private liveTailTimer(key: string): LiveTailTimer {
    const name = `live-tail:${key}`;
    return (everyMs, tick) => {
      // A predecessor whose lease was lost has stopped (and removed its interval) before this starts.
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
      const timer = setInterval(tick, everyMs);
      this.scheduler.addInterval(name, timer);
      return () => {
        if (this.scheduler.doesExist('interval', name) && this.scheduler.getInterval(name) === timer) {
          this.scheduler.deleteInterval(name);
        }
        clearInterval(timer);
      };
    };
  }

  private async release({ source, client, runner }: Held): Promise<void> {
    await runner.stop();
    client.destroy();
    try {
      await this.leases.release(source, this.owner);
    } catch {
      // Redis is down: the lease expires on its own after its ttl.
    }
  }
}
