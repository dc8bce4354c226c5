import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNabDataSets, scoreNabCategory } from './nab-benchmark.js';

/** A dataset under ../shared/datasets, and the test that needs it, which says so when it is absent. */
function dataset(name: string, test: string): { root: string; itWhenPresent: typeof it } {
  const root = fileURLToPath(new URL(`../../../../shared/datasets/${name}`, import.meta.url));
  if (existsSync(root)) return { root, itWhenPresent: it };
  process.stderr.write(`nab-benchmark.spec: ${root} not found, skipping the ${test} test\n`);
  return { root, itWhenPresent: it.skip };
}

const continuous = dataset('nab-continuous', 'NAB continuous');
const tweets = dataset('nab-realTweets', 'NAB realTweets');

describe('NAB continuous (../shared/datasets/nab-continuous)', () => {
  continuous.itWhenPresent(
    'scores the 19 files with one threshold, above windowedGaussian published 50.4, out of sample too',
    () => {
      const sets = ['artificialWithAnomaly', 'realAdExchange', 'realTraffic'].flatMap((dir) =>
        loadNabDataSets(continuous.root, dir),
      );
      expect(sets).toHaveLength(19);
      const category = scoreNabCategory(sets);
      expect(category.result.windows).toBe(34);
      expect(Object.values(category.kinds).reduce((a, b) => a + b, 0)).toBe(19);
      expect(category.kinds.continuous).toBeGreaterThanOrEqual(12);
      // One threshold for every file: at or above 0.5, the score the anomaly flag starts at.
      expect(category.result.threshold).toBeGreaterThanOrEqual(0.5);
      expect(category.result.normalised).toBeGreaterThan(50.4);
      expect(category.leaveOneFileOut).toBeGreaterThan(50.4);
      expect(category.leaveOneFileOut).toBeLessThanOrEqual(category.result.normalised);
    },
    60_000,
  );
});

describe('NAB realTweets (../shared/datasets/nab-realTweets)', () => {
  tweets.itWhenPresent(
    'scores the 10 count files above 82 (issue #18; ARTime published 81.8), out of sample above contextOSE 74.5',
    () => {
      const sets = loadNabDataSets(tweets.root, 'realTweets');
      expect(sets).toHaveLength(10);
      const category = scoreNabCategory(sets);
      expect(category.kinds).toEqual({ counts: 10 });
      expect(category.result.windows).toBe(33);
      expect(category.result.normalised).toBeGreaterThan(82);
      expect(category.leaveOneFileOut).toBeGreaterThan(74.5);
      expect(category.leaveOneFileOut).toBeLessThanOrEqual(category.result.normalised);
    },
    60_000,
  );
});
