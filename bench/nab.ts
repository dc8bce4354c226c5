import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadNabDataSets, scoreNabCategory } from '@trailsight/evaluation';

/**
 * `npm run eval:nab`: only the NAB part of `npm run eval` (scoreSeries on nab-continuous and
 * realTweets, NAB's standard profile), for iterating on the series scorers. NAB_CATEGORY=continuous
 * or realTweets runs one category; NAB_DETAIL=1 adds each file's raw score, windows detected and
 * false positives at the category's threshold. The last line of stdout is the JSON report.
 */
const datasets = process.env.EVAL_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const only = process.env.NAB_CATEGORY;
const detail = process.env.NAB_DETAIL === '1';
const categories = {
  continuous: () =>
    ['artificialWithAnomaly', 'realAdExchange', 'realTraffic'].flatMap((dir) =>
      loadNabDataSets(join(datasets, 'nab-continuous'), dir),
    ),
  realTweets: () => loadNabDataSets(join(datasets, 'nab-realTweets'), 'realTweets'),
};
if (only !== undefined && !(only in categories)) throw new Error(`NAB_CATEGORY must be continuous or realTweets`);
const round = (x: number | null, digits = 2) => (x === null ? null : Number(x.toFixed(digits)));
const report: Record<string, unknown> = {};
const started = Date.now();
for (const [name, load] of Object.entries(categories)) {
  if (only !== undefined && only !== name) continue;
  const scored = scoreNabCategory(load());
  const { result } = scored;
  report[name] = {
    standard: round(result.normalised),
    leave_one_file_out: round(scored.leaveOneFileOut),
    threshold: round(result.threshold, 6),
    windows_detected: `${result.windowsDetected}/${result.windows}`,
    fp: result.counts.fp,
    kinds: scored.kinds,
    by_directory: Object.fromEntries(Object.entries(scored.byDirectory).map(([k, v]) => [k, round(v)])),
    ...(detail ? { files: scored.perFile.map((f) => ({ ...f, raw: round(f.raw, 3) })) } : {}),
  };
  process.stderr.write(
    `[nab ${((Date.now() - started) / 1000).toFixed(1)}s] ${name}: ${round(result.normalised)} (LOO ${round(scored.leaveOneFileOut)})\n`,
  );
}
process.stdout.write(`${JSON.stringify(report)}\n`);
