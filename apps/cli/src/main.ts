import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_TRAIL_FILE_MAX_BYTES, loadEventCategories } from '@trailsight/core';
import type { DetectorTuning } from '@trailsight/detection';
import type { InsightsEventCategory } from '@trailsight/domain';
import { detect, UsageError } from './detect.command.js';
import { keys } from './keys.command.js';
import { Progress } from './progress.js';
import { score } from './score.command.js';

const USAGE = `Usage:
  trailsight detect [--sensitivity 1-10] [--min-volume N] [--max-file-bytes N]
                   [--event-categories Management[,Data]] <files or dirs...>
      CloudTrail logs (.json, .json.gz, JSON arrays, NDJSON, saved LookupEvents output) to
      Insights records as NDJSON on stdout; progress and a summary on stderr. A file that
      decompresses to more than --max-file-bytes (default ${DEFAULT_TRAIL_FILE_MAX_BYTES}, as
      TRAIL_FILE_MAX_BYTES) is read no further and counted as a too-large reject.
      --event-categories (default: INSIGHTS_EVENT_CATEGORIES, else Management): Data adds
      data-event insights, as the service does.
  trailsight score --csv <file> [--sensitivity 1-10] [--min-volume N]
      A timestamp,value series to timestamp,value,score,anomaly on stdout.
  trailsight keys create --scope admin|read [--kind aws [--account-id <12 digits>]]
           | keys list | keys revoke <id>
      API keys, straight in the Redis at REDIS_URL (REDIS_PREFIX): no API key needed, so an
      operator who lost every admin key gets back in. create prints the new key on stdout, once.
      --kind aws: an access key id and secret for SigV4 on /aws (needs SECRETS_KEY), printed as
      AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines.
(in a checkout: npm run cli -- <command> ...)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      csv: { type: 'string' },
      sensitivity: { type: 'string' },
      'min-volume': { type: 'string' },
      'max-file-bytes': { type: 'string' },
      scope: { type: 'string' },
      kind: { type: 'string' },
      'account-id': { type: 'string' },
      'event-categories': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const tuning = tuningFrom(values.sensitivity, values['min-volume']);
  switch (command) {
    case 'detect': {
      const maxFileBytes = maxFileBytesFrom(values['max-file-bytes']);
      const categories = eventCategoriesFrom(values['event-categories']);
      const summary = await detect(positionals, tuning, process.stdout, new Progress(), maxFileBytes, categories);
      return summary.files === 0 ? 1 : 0;
    }
    case 'keys':
      return keys(
        positionals,
        { scope: values.scope, kind: values.kind, accountId: values['account-id'] },
        process.stdout,
        process.stderr,
      );
    case 'score':
      if (!values.csv) throw new UsageError('score needs --csv <file>');
      await score(values.csv, tuning, process.stdout);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function maxFileBytesFrom(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TRAIL_FILE_MAX_BYTES;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--max-file-bytes must be a whole number >= 1, got "${raw}"`);
  return value;
}

/** The flag, else INSIGHTS_EVENT_CATEGORIES, validated as the service validates it. */
function eventCategoriesFrom(flag: string | undefined): InsightsEventCategory[] {
  try {
    return loadEventCategories(flag);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problem = error.problems.join('; ');
    throw new UsageError(
      flag === undefined ? problem : problem.replace('INSIGHTS_EVENT_CATEGORIES', '--event-categories'),
    );
  }
}

function tuningFrom(sensitivity: string | undefined, minVolume: string | undefined): Partial<DetectorTuning> {
  const tuning: Partial<DetectorTuning> = {};
  if (sensitivity !== undefined) {
    const value = Number(sensitivity);
    if (!(value >= 1 && value <= 10)) throw new UsageError(`--sensitivity must be from 1 to 10, got "${sensitivity}"`);
    tuning.sensitivity = value;
  }
  if (minVolume !== undefined) {
    const value = Number(minVolume);
    if (!(value >= 0)) throw new UsageError(`--min-volume must be a number >= 0, got "${minVolume}"`);
    tuning.minVolume = value;
  }
  return tuning;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`trailsight: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError) {
      process.stderr.write(`trailsight: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`trailsight: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
