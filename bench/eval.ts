import { fileURLToPath } from 'node:url';
import { runEvaluation } from '@trailsight/evaluation';

/**
 * `npm run eval`: the detector core against labelled synthetic traffic (spikes, drops, error
 * bursts, Stratus Red Team detonations) and NAB realTweets. Progress on stderr; the last line of
 * stdout is the JSON report. EVAL_SEED picks the seed (default 7); datasets come from
 * ../shared/datasets relative to the repository root, or EVAL_DATASETS.
 */
const seed = Number(process.env.EVAL_SEED ?? 7);
const datasets = process.env.EVAL_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const started = Date.now();
const report = await runEvaluation({
  seed,
  datasets,
  progress: (message) => process.stderr.write(`[eval ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`),
});
process.stderr.write(`[eval] done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.stdout.write(`${JSON.stringify(report)}\n`);
