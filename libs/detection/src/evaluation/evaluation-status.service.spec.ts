import { HealthIndicatorService } from '@nestjs/terminus';
import type { Checkpoint, CheckpointRepository } from '@trailsight/cloudtrail';
import type { AppConfig } from '@trailsight/core';
import { accountRegionKey, DAY_MS, HOUR_MS, MINUTE_MS, type AccountRegion } from '@trailsight/domain';
import type { EvaluationProgress, EvaluationRepository } from './evaluation.repository.js';
import { EvaluationStatusService } from './evaluation-status.service.js';

/**
 * The status rules over in-memory repositories: every state is one map entry away, so each case
 * reads as the situation it names (the Redis side of these repositories has its own int-specs).
 */
const NOW = Date.parse('2026-12-01T12:00:30Z');
const MAX_LAG_SECONDS = 1_800;

type SourceState = { backfillDone?: boolean; progress?: EvaluationProgress; checkpoint?: Partial<Checkpoint> };

/** A 7-day back-fill started 2 hours before NOW that has read its most recent day and 6 hours more. */
const HALF_WAY: Partial<Checkpoint> = {
  backfillFrom: NOW - 2 * HOUR_MS - 7 * DAY_MS,
  backfillUntil: NOW - 2 * HOUR_MS,
  backfillCursor: NOW - 2 * HOUR_MS - 30 * HOUR_MS,
  backfillStartedAt: NOW - 2 * HOUR_MS,
};

function serviceOver(states: Record<string, SourceState>) {
  const sources: AccountRegion[] = Object.keys(states).map((key) => {
    const [accountId = '', region = ''] = key.split(':');
    return { accountId, region };
  });
  const checkpoints = {
    sources: () => Promise.resolve(sources),
    load: (source: AccountRegion) => {
      const { backfillDone, checkpoint } = states[accountRegionKey(source)] ?? {};
      return Promise.resolve(backfillDone === undefined ? undefined : { ...checkpoint, backfillDone });
    },
  } as unknown as CheckpointRepository;
  const evaluations = {
    progress: (source: AccountRegion) => Promise.resolve(states[accountRegionKey(source)]?.progress),
  } as unknown as EvaluationRepository;
  const config = { evaluationMaxLagSeconds: MAX_LAG_SECONDS, evaluationIntervalSeconds: 15 } as AppConfig;
  return new EvaluationStatusService(checkpoints, evaluations, new HealthIndicatorService(), config);
}

/** Progress whose last evaluated minute ends `lagSeconds` before `now`, saved `savedAgoMs` before it. */
function progress(lagSeconds: number, savedAgoMs?: number, now = NOW): EvaluationProgress {
  const cursor = now - lagSeconds * 1000 - MINUTE_MS;
  return {
    historyStart: cursor - 60 * MINUTE_MS,
    cursor,
    snapshotMinute: cursor,
    ...(savedAgoMs === undefined ? {} : { savedAt: now - savedAgoMs }),
  };
}

describe('EvaluationStatusService (in-memory repositories)', () => {
  it('names each account-region by where its evaluation stands', async () => {
    const service = serviceOver({
      '111111111111:us-east-1': { backfillDone: false },
      '222222222222:us-east-1': { backfillDone: true },
      '333333333333:us-east-1': { backfillDone: true, progress: progress(45, 10_000) },
      '444444444444:us-east-1': { backfillDone: true, progress: progress(2 * MAX_LAG_SECONDS, 20_000) },
      '555555555555:us-east-1': { backfillDone: true, progress: progress(2 * MAX_LAG_SECONDS, 10 * MINUTE_MS) },
    });
    const statuses = await service.statuses(NOW);
    expect(statuses.map((s) => [s.accountId, s.state, s.lagSeconds])).toEqual([
      ['111111111111', 'backfilling', undefined],
      ['222222222222', 'waiting', undefined],
      ['333333333333', 'evaluating', 45],
      ['444444444444', 'catching-up', 2 * MAX_LAG_SECONDS],
      ['555555555555', 'stalled', 2 * MAX_LAG_SECONDS],
    ]);
  });

  it('evaluates the recent day while older days are back-filled, with the back-fill share and ETA', async () => {
    const service = serviceOver({
      '111111111111:us-east-1': { backfillDone: false, checkpoint: HALF_WAY },
      '222222222222:us-east-1': { backfillDone: false, checkpoint: HALF_WAY, progress: progress(30, 1_000) },
      '333333333333:us-east-1': {
        backfillDone: false,
        checkpoint: { ...HALF_WAY, backfillCursor: HALF_WAY.backfillUntil, backfillStartedAt: NOW },
      },
    });
    const [before, evaluating, unread] = await service.statuses(NOW);
    // 30 of 168 hours read in 2 hours: 138 hours left take 9.2 hours more.
    const halfWay = { percent: 17.9, etaSeconds: Math.round((2 * 3600 * 138) / 30) };
    expect(before).toEqual({ accountId: '111111111111', region: 'us-east-1', state: 'backfilling', backfill: halfWay });
    expect(evaluating).toMatchObject({ state: 'evaluating', lagSeconds: 30, backfill: halfWay });
    expect(unread.backfill).toEqual({ percent: 0, etaSeconds: null });
  });

  it('lists the running back-fills in the health details', async () => {
    const now = Date.now();
    const running = { ...HALF_WAY, backfillStartedAt: now - 2 * HOUR_MS };
    const service = serviceOver({
      '123456789012:us-east-1': { backfillDone: false, checkpoint: running, progress: progress(30, 1_000, now) },
      '210987654321:us-east-1': { backfillDone: true, progress: progress(30, 1_000, now) },
    });
    const { evaluator } = await service.isHealthy('evaluator');
    expect(evaluator).toMatchObject({
      status: 'up',
      evaluating: 2,
      backfilling: 0,
      backfills: [{ accountId: '123456789012', region: 'us-east-1', state: 'evaluating', percent: 17.9 }],
    });
  });

  it('treats a cursor never saved as stopped once it is behind', async () => {
    const service = serviceOver({ '123456789012:eu-west-1': { backfillDone: true, progress: progress(3_600) } });
    expect((await service.statuses(NOW))[0]).toMatchObject({ state: 'stalled', lagSeconds: 3_600 });
  });

  it('is healthy while nothing has stalled, and says which account-region has', async () => {
    // The health check reads the wall clock.
    const now = Date.now();
    const healthy = serviceOver({
      '123456789012:us-east-1': { backfillDone: true, progress: progress(30, 1_000, now) },
    });
    await expect(healthy.isHealthy('evaluator')).resolves.toMatchObject({ evaluator: { status: 'up' } });

    const stalled = serviceOver({
      '123456789012:us-east-1': { backfillDone: true, progress: progress(10 * MAX_LAG_SECONDS, 60 * MINUTE_MS, now) },
    });
    await expect(stalled.isHealthy('evaluator')).resolves.toMatchObject({
      evaluator: { status: 'down', message: expect.stringContaining('123456789012:us-east-1') },
    });
  });
});
