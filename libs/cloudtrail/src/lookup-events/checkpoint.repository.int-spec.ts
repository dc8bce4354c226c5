import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { CheckpointRepository, type Checkpoint } from './checkpoint.repository.js';

const source = { accountId: '123456789012', region: 'us-east-1' };
const initial: Checkpoint = {
  liveUntil: 1_000_000,
  backfillFrom: 100_000,
  backfillUntil: 900_000,
  backfillCursor: 900_000,
  backfillDone: false,
};

describe('CheckpointRepository (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let checkpoints: CheckpointRepository;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    checkpoints = new CheckpointRepository(redis, new KeySpace('t'));
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('keeps when the back-fill began, for its ETA', async () => {
    const started = { ...initial, backfillStartedAt: 950_000 };
    expect(await checkpoints.loadOrCreate(source, started)).toEqual(started);
    expect((await checkpoints.load(source))?.backfillStartedAt).toBe(950_000);
  });

  it('creates the checkpoint once; a second replica gets the stored one', async () => {
    expect(await checkpoints.load(source)).toBeUndefined();
    expect(await checkpoints.loadOrCreate(source, initial)).toEqual(initial);
    const later = { ...initial, liveUntil: 2_000_000, backfillCursor: 5 };
    expect(await checkpoints.loadOrCreate(source, later)).toEqual(initial);
    expect(await redis.hgetall('t:{123456789012:us-east-1}:checkpoint')).toEqual({
      liveUntil: '1000000',
      backfillFrom: '100000',
      backfillUntil: '900000',
      backfillCursor: '900000',
      backfillDone: '0',
    });
  });

  it('moves liveUntil only forward and the backfill cursor only back', async () => {
    await checkpoints.loadOrCreate(source, initial);
    await checkpoints.advanceLive(source, 1_500_000);
    await checkpoints.advanceLive(source, 1_200_000); // a late writer (a replica that lost its lease)
    await checkpoints.advanceBackfill(source, 500_000);
    await checkpoints.advanceBackfill(source, 700_000);
    expect(await checkpoints.load(source)).toEqual({ ...initial, liveUntil: 1_500_000, backfillCursor: 500_000 });
    await checkpoints.finishBackfill(source);
    expect((await checkpoints.load(source))!.backfillDone).toBe(true);
  });

  it('keeps account-regions apart', async () => {
    await checkpoints.loadOrCreate(source, initial);
    expect(await checkpoints.load({ ...source, region: 'eu-west-1' })).toBeUndefined();
  });

  it('lists the registered account-regions, each once, in order', async () => {
    expect(await checkpoints.sources()).toEqual([]);
    await checkpoints.registerSources([source, { ...source, region: 'eu-west-1' }]);
    await checkpoints.registerSources([source, { accountId: '000000000001', region: 'us-east-1' }]);
    expect(await checkpoints.sources()).toEqual([
      { accountId: '000000000001', region: 'us-east-1' },
      { accountId: '123456789012', region: 'eu-west-1' },
      source,
    ]);
  });
});
