import { EventEmitter } from 'node:events';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { HOUR_MS } from '@trailsight/domain';
import { FindingsRepository } from './findings.repository.js';

/** How often findings past FINDINGS_RETENTION_DAYS are pruned (and once at start). */
const FINDINGS_PRUNE_EVERY_MS = HOUR_MS;
/** Names in the SchedulerRegistry. */
export const FINDINGS_PRUNE_INTERVAL = 'findings-prune';
export const FINDINGS_PRUNE_AT_START = 'findings-prune-at-start';

/** pruned: a run finished (how many findings it removed); failed: a run failed (tried again next time). */
type RetentionEvents = { pruned: [removed: number]; failed: [error: unknown] };

/**
 * Prunes findings past FINDINGS_RETENTION_DAYS, with their series and index entries, once at
 * start and then hourly: a per-process timer (SchedulerRegistry) in the processes that own
 * findings, the detector and the combined app. Every replica may run it: a prune is idempotent
 * and cheap when nothing is due, and the per-finding EXPIRE is the safety net between runs.
 */
@Injectable()
export class FindingsRetentionService
  extends EventEmitter<RetentionEvents>
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(FindingsRetentionService.name);
  private running?: Promise<void>;
  private everyMs = FINDINGS_PRUNE_EVERY_MS;

  constructor(
    private readonly findings: FindingsRepository,
    private readonly scheduler: SchedulerRegistry,
  ) {
    super();
  }

  /** A shorter period for tests. Call before the application starts. */
  configure(options: { everyMs: number }): void {
    this.everyMs = options.everyMs;
  }

  onApplicationBootstrap(): void {
    this.scheduler.addTimeout(
      FINDINGS_PRUNE_AT_START,
      setTimeout(() => this.run(), 0),
    );
    this.scheduler.addInterval(
      FINDINGS_PRUNE_INTERVAL,
      setInterval(() => this.run(), this.everyMs),
    );
  }

  /** Stops the timers and waits for a run in flight, before RedisService closes the connection. */
  async onModuleDestroy(): Promise<void> {
    for (const name of this.scheduler.getTimeouts())
      if (name === FINDINGS_PRUNE_AT_START) this.scheduler.deleteTimeout(name);
    for (const name of this.scheduler.getIntervals())
      if (name === FINDINGS_PRUNE_INTERVAL) this.scheduler.deleteInterval(name);
    await this.running;
  }

  /** One run; a run still going (a slow Redis) is not overlapped. */
  private run(): void {
    if (this.running) return;
    this.running = this.findings
      .prune()
      .then((removed) => {
        if (removed > 0) this.logger.log(`pruned ${removed} finding(s) past the retention`);
        this.emit('pruned', removed);
      })
      .catch((error: unknown) => {
        this.logger.warn(`pruning findings failed: ${error instanceof Error ? error.message : String(error)}`);
        this.emit('failed', error);
      })
      .finally(() => {
        this.running = undefined;
      });
  }
}
