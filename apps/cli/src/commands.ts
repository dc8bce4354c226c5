import { ConfigError, DEFAULT_TRAIL_FILE_MAX_BYTES, loadEventCategories } from '@trailsight/core';
import type { DetectorTuning, SeriesKind } from '@trailsight/detection';
import type { InsightsEventCategory } from '@trailsight/domain';
import { compare } from './compare.command.js';
import { detect } from './detect.command.js';
import { keys } from './keys.command.js';
import { Progress } from './progress.js';
import { score } from './score.command.js';
import { UsageError } from './usage-error.js';

/** The flags main() parsed; each command reads those it knows. */
export interface CommandOptions {
  csv?: string;
  sensitivity?: string;
  'min-volume'?: string;
  'max-file-bytes'?: string;
  scope?: string;
  kind?: string;
  'account-id'?: string;
  'event-categories'?: string;
  'tolerance-minutes'?: string;
}

/** Runs one command; resolves to the process's exit code. */
export async function runCommand(command: string, rest: string[], values: CommandOptions): Promise<number> {
  const tuning = tuningFrom(values.sensitivity, values['min-volume']);
  switch (command) {
    case 'detect': {
      const maxFileBytes = maxFileBytesFrom(values['max-file-bytes']);
      const categories = eventCategoriesFrom(values['event-categories']);
      const summary = await detect(rest, tuning, process.stdout, new Progress(), maxFileBytes, categories);
      return summary.files === 0 ? 1 : 0;
    }
    case 'compare': {
      if (rest.length !== 1) throw new UsageError('compare needs one trail directory');
      const options = {
        tuning,
        maxFileBytes: maxFileBytesFrom(values['max-file-bytes']),
        eventCategories: eventCategoriesFrom(values['event-categories']),
        toleranceMinutes: toleranceFrom(values['tolerance-minutes']),
      };
      await compare(rest[0], options, process.stdout, new Progress());
      return 0;
    }
    case 'keys':
      return keys(
        rest,
        { scope: values.scope, kind: values.kind, accountId: values['account-id'] },
        process.stdout,
        process.stderr,
      );
    case 'score':
      if (!values.csv) throw new UsageError('score needs --csv <file>');
      await score(values.csv, tuning, process.stdout, seriesKindFrom(values.kind));
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function seriesKindFrom(raw: string | undefined): SeriesKind | 'auto' {
  if (raw === undefined || raw === 'auto' || raw === 'counts' || raw === 'continuous') return raw ?? 'auto';
  throw new UsageError(`--kind for score must be auto, counts or continuous, got "${raw}"`);
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

function toleranceFrom(raw: string | undefined): number {
  if (raw === undefined) return 15;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new UsageError(`--tolerance-minutes must be a whole number >= 0, got "${raw}"`);
  return value;
}
