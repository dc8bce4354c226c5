import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig, ProcessMetrics } from '@trailsight/core';
import { JOB_RULES, JobName, QueueName, type EvaluatorJobItem, WORKER_NAME } from '@trailsight/queue';
import { EvaluatorService, type SourceRun } from './evaluator.service.js';

/** The job scheduler's id: one per deployment, however many detector replicas upsert it. */
const EVALUATION_SCHEDULER_ID = 'evaluate-closed-minutes';

/**
 * Runs the evaluator from a BullMQ job scheduler: every EVALUATION_INTERVAL seconds one job, taken
 * by one replica, so evaluation happens once cluster-wide. A run that overruns its tick just
 * delays the next (a per-account-region lock keeps two runs apart if ever they overlap).
 */
@Processor(QueueName.Evaluator, { concurrency: 1, name: WORKER_NAME })
export class EvaluatorProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(EvaluatorProcessor.name);

  constructor(
    private readonly evaluator: EvaluatorService,
    @InjectQueue(QueueName.Evaluator) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: ProcessMetrics,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      EVALUATION_SCHEDULER_ID,
      { every: this.config.evaluationIntervalSeconds * 1000 },
      {
        name: JobName.EvaluateMinutes,
        data: {},
        opts: JOB_RULES[JobName.EvaluateMinutes].options(this.config),
      },
    );
    this.logger.log(`evaluating closed minutes every ${this.config.evaluationIntervalSeconds} s`);
  }

  async process(job: Job<EvaluatorJobItem['data'], SourceRun[], EvaluatorJobItem['name']>): Promise<SourceRun[]> {
    const name = job.name;
    switch (name) {
      case JobName.EvaluateMinutes: {
        // Half the interval's worth of catching up per run at least, and never a run that blocks for long.
        const timer = this.metrics.evaluationDuration.startTimer();
        const runs = await this.evaluator.runOnce(Math.max(10_000, this.config.evaluationIntervalSeconds * 1000));
        timer();
        const minutes = runs.reduce((sum, run) => sum + run.minutes, 0);
        if (minutes > 1 + runs.length) {
          this.logger.log(`evaluated ${minutes} minutes over ${runs.length} account-region(s)`);
        }
        return runs;
      }
      default: {
        const unknown: never = name;
        throw new Error(`unknown job ${String(unknown)} on queue ${QueueName.Evaluator}`);
      }
    }
  }
}
