import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

/** Each command's usage, shown by `help <command>` and after a usage error in it. */
const COMMANDS: Record<string, string> = {
  detect: `  trailsight detect [--sensitivity 1-10] [--min-volume N] [--max-file-bytes N]
                   [--event-categories Management[,Data]] <files or dirs...>
      CloudTrail logs (.json, .json.gz, JSON arrays, NDJSON, saved LookupEvents output) to
      Insights records as NDJSON on stdout; progress and a summary on stderr. A file that
      decompresses to more than --max-file-bytes (default: TRAIL_FILE_MAX_BYTES,
      else 128 MiB) is read no further and counted as a too-large reject.
      --event-categories (default: INSIGHTS_EVENT_CATEGORIES, else Management): Data adds
      data-event insights, as the service does.`,
  compare: `  trailsight compare [--tolerance-minutes N] [detect's flags] <trail dir>
      Detects over the tree's management events (as detect) and matches the result with AWS's
      own Insights files in the same tree (CloudTrail-Insight/): same API, type and error code,
      periods overlapping or starts within --tolerance-minutes (default 15). A table of matched,
      only-AWS and only-Trailsight insights on stderr, the same as JSON on stdout.`,
  score: `  trailsight score --csv <file> [--kind auto|counts|continuous] [--sensitivity 1-10] [--min-volume N]
      A timestamp,value series to timestamp,value,score,anomaly on stdout. --kind: the
      model (auto: counts for non-negative integers, else continuous).`,
  keys: `  trailsight keys create --scope admin|read [--kind aws [--account-id <12 digits>]]
           | keys list | keys revoke <id>
      API keys, straight in the Redis at REDIS_URL (REDIS_PREFIX): no API key needed, so an
      operator who lost every admin key gets back in. create prints the new key on stdout, once.
      --kind aws: an access key id and secret for SigV4 on /aws (needs SECRETS_KEY), printed as
      AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines.`,
};

const USAGE = `Usage:
${Object.values(COMMANDS).join('\n')}
  trailsight help [command] | --help | -h      this text, or one command's
  trailsight --version                         the version
(in a checkout: npm run cli -- <command> ..., or npm link once, then trailsight <command> ...)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
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
      'tolerance-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`trailsight ${packageVersion()}\n`);
    return 0;
  }
  if (values.help || command === 'help') {
    const topic = command === 'help' ? rest[0] : command;
    if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) throw new UsageError(`no command "${topic}"`);
    process.stdout.write(topic === undefined ? `${USAGE}\n` : `Usage:\n${COMMANDS[topic]}\n`);
    return 0;
  }
  if (command === undefined) throw new UsageError('a command is needed');
  if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command "${command}"`);
  // Loaded only now: help and --version answer at once, without the detector and its libraries.
  const { runCommand } = await import('./commands.js');
  return runCommand(command, rest, values);
}

/** The version in the package.json above this file, wherever it was built or installed. */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'trailsight' && pkg.version) return pkg.version;
    } catch {
      // not here: one level up
    }
  }
  return 'unknown';
}

// `trailsight detect ... | head -1`: the reader left, so there is nobody to tell; stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode === undefined ? 0 : Number(process.exitCode));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      // A usage error shows the usage of the command it was in, when that is known.
      const command = process.argv.slice(2).find((arg) => Object.hasOwn(COMMANDS, arg));
      const usage = command === undefined ? USAGE : `Usage:\n${COMMANDS[command]}`;
      process.stderr.write(`trailsight: ${(error as Error).message}\n\n${usage}\n`);
      process.exitCode = 2;
    } else if (error instanceof Error && error.name === 'ConfigError') {
      process.stderr.write(`trailsight: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`trailsight: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
