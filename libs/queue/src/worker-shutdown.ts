import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Worker } from 'bullmq';
import { EventQueues } from './event-queues.js';

/**
 * How long a worker may take to finish its jobs and close on shutdown. Below Docker's 10 s stop
 * grace; a batch that was cut off is not lost: its lock expires and another worker retries it.
 */
export const WORKER_CLOSE_TIMEOUT_MS = 8_000;

type ClosableWorker = Pick<Worker, 'name' | 'close' | 'disconnect'>;

/**
 * Closes a worker, waiting at most `timeoutMs` for its running jobs. BullMQ's close() can wait
 * without end (a Redis Cluster primary that died under its blocking connection); past the
 * deadline the worker's connections are dropped and its close() answers at once from then on,
 * as Nest's own later close() would otherwise get the same hung promise. True when it closed in time.
 */
export async function closeWorkerWithin(
  worker: ClosableWorker,
  timeoutMs: number,
  logger: Pick<Logger, 'warn'>,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const closing = worker.close().then(
    () => 'closed' as const,
    (error: unknown) => {
      logger.warn(`closing worker ${worker.name}: ${String(error)}`);
      return 'closed' as const;
    },
  );
  const outcome = await Promise.race([closing, deadline]);
  clearTimeout(timer);
  if (outcome === 'closed') return true;
  logger.warn(
    `worker ${worker.name} did not close within ${timeoutMs} ms; dropping its connections ` +
      '(its unfinished jobs go back to the queue when their locks expire, for another worker)',
  );
  worker.close = () => Promise.resolve();
  await Promise.race([
    Promise.resolve(worker.disconnect()).catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
  ]);
  return false;
}

/**
 * Closes every worker of the app on shutdown, the @Processor ones and the other events
 * partitions', all at once within WORKER_CLOSE_TIMEOUT_MS, before @nestjs/bullmq's own unbounded
 * close() of the same workers runs. All at once: Nest runs the shutdown hooks of providers at
 * different depths one after the other, and each close can wait out its whole deadline.
 */
@Injectable()
export class WorkersShutdown implements OnModuleDestroy {
  private readonly logger = new Logger(WorkersShutdown.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly eventQueues: EventQueues,
  ) {}

  async onModuleDestroy(): Promise<void> {
    const processors = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is WorkerHost => instance instanceof WorkerHost)
      .flatMap((host) => {
        try {
          return [host.worker];
        } catch {
          return []; // never started
        }
      });
    const workers = [...processors, ...this.eventQueues.partitionWorkers()];
    await Promise.all(workers.map((worker) => closeWorkerWithin(worker, WORKER_CLOSE_TIMEOUT_MS, this.logger)));
  }
}
