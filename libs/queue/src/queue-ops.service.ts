import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { MetricFamily } from '@trailsight/core';
import { Queue } from 'bullmq';
import { EventQueues } from './event-queues.js';

/** A health check must answer quickly even when Redis does not. */
const CHECK_TIMEOUT_MS = 1_500;
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/**
 * Backlogs of every BullMQ queue registered in the app (whatever module registered it) and of
 * every events partition, for
 * `GET /health` and `GET /metrics`.
 */
@Injectable()
export class QueueOpsService implements OnApplicationBootstrap {
  private queues: Queue[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly health: HealthIndicatorService,
    private readonly events: EventQueues,
  ) {}

  onApplicationBootstrap(): void {
    const found = new Map<string, Queue>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (instance instanceof Queue) found.set(instance.name, instance as Queue);
    }
    // The events queue's other partitions (EVENT_QUEUE_PARTITIONS) are no providers.
    for (const queue of this.events.all()) found.set(queue.name, queue);
    this.queues = [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async counts(): Promise<Map<string, Record<string, number>>> {
    const entries = await Promise.all(
      this.queues.map(async (queue) => [queue.name, await queue.getJobCounts(...STATES)] as const),
    );
    return new Map(entries);
  }

  /** Up with each queue's backlog (waiting + delayed + prioritized) and failed count; down when unreadable. */
  async isHealthy<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    return this.health
      .check(key)
      .attempt(async () => {
        const details: Record<string, { backlog: number; active: number; failed: number }> = {};
        for (const [name, c] of await this.counts()) {
          details[name] = {
            backlog: (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0),
            active: c.active ?? 0,
            failed: c.failed ?? 0,
          };
        }
        return details;
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  async metrics(): Promise<MetricFamily[]> {
    const counts = await this.counts();
    return [
      {
        name: 'trailsight_queue_jobs',
        help: 'BullMQ jobs per queue and state.',
        type: 'gauge',
        samples: [...counts].flatMap(([queue, c]) =>
          STATES.map((state) => ({ labels: { queue, state }, value: c[state] ?? 0 })),
        ),
      },
    ];
  }
}
