import { KeySpace } from './key-space.js';
import { hashedPart } from './key-slot.js';
import { bullPrefix } from './redis-connection.options.js';

/** Keys one script or transaction writes together must hash alike, or Redis Cluster refuses them. */
describe('KeySpace hash tags', () => {
  const keys = new KeySpace('ts');
  const source = { accountId: '123456789012', region: 'eu-west-1' };
  const other = { accountId: '123456789012', region: 'us-east-1' };

  it.each([
    [
      'one account-region (counting, checkpoints, evaluation)',
      [
        keys.minuteCounters(source, 0),
        keys.seenEvents(source, 60_000),
        keys.batchDone(source, 'job-1'),
        keys.sourceStats(source),
        keys.activeMinutes(source),
        keys.checkpoint(source),
        keys.evaluation(source),
        keys.detectorStates(source),
        keys.attributionHour(source, 0),
        keys.trackedSeries(source),
      ],
    ],
    [
      'findings',
      [
        keys.finding('a'),
        keys.findingSeries('a'),
        keys.findingsIndex('all'),
        keys.findingsIndexKeys(),
        keys.openFindings(),
      ],
    ],
    [
      'webhooks',
      [keys.webhookSubscription('s'), keys.webhookSubscriptions(), keys.webhookTotals(), keys.webhookEnqueued('d')],
    ],
    [
      'API keys (first admin key and its marker; revocation and last use)',
      [keys.apiKeys(), keys.apiKeysLastUsed(), keys.apiKeysBootstrapped()],
    ],
    ['rejects (counted and parked in one transaction)', [keys.rejectCounts(), keys.parkedRejects()]],
    [
      'failed event batches (recorded and counted in one transaction)',
      [keys.failedBatches(), keys.failedBatchTotals()],
    ],
    [
      // BullMQ's scripts move jobs between a queue's lists; libs/queue checks BullMQ's own key names.
      'BullMQ queues (one prefix, one hash tag)',
      ['events:wait', 'events:active', 'events:batch-1', 'webhooks:delayed', 'evaluator:meta', 'files:id'].map(
        (suffix) => `${bullPrefix('ts')}:${suffix}`,
      ),
    ],
  ])('%s share one slot', (_group, group) => {
    expect(new Set(group.map(hashedPart)).size).toBe(1);
    expect(hashedPart(group[0])).not.toBe(group[0]);
  });

  it('keeps the pre-hash-tag API key names for the migration, apart from the new ones', () => {
    const names = keys.legacyApiKeyNames();
    expect(names.map(({ from }) => from)).toEqual(['ts:auth:keys', 'ts:auth:keys:used', 'ts:auth:bootstrapped']);
    expect(names.map(({ to }) => to)).toEqual([keys.apiKeys(), keys.apiKeysLastUsed(), keys.apiKeysBootstrapped()]);
    for (const { from } of names) expect(hashedPart(from)).toBe(from);
  });

  it('gives each account-region its own slot', () => {
    expect(hashedPart(keys.sourceStats(source))).not.toBe(hashedPart(keys.sourceStats(other)));
  });
});
