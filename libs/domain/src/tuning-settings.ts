import { accountIdProblem, apiNameProblem, regionProblem } from './aws-identifiers.js';

/**
 * The per-API detector settings an operator may override (DETECTOR_OVERRIDES at boot,
 * /v1/tuning at runtime), and the one check of them both use.
 */
export interface TuningSettings {
  /** 1 (fewest insights) to 10 (most). */
  sensitivity?: number;
  /** Smallest volume (events per minute) an insight can be about. */
  minVolume?: number;
  /** Normal minutes in a row that end an insight. */
  endAfterNormalMinutes?: number;
  /** Whether drops (a busy API going quiet) are insights. */
  drops?: boolean;
}

/** Where an override applies: every field it sets must equal the series'; none set is everywhere. */
export interface TuningScope {
  accountId?: string;
  region?: string;
  eventSource?: string;
  eventName?: string;
}

const SETTING_CHECKS: Record<keyof TuningSettings, (value: unknown) => string | undefined> = {
  sensitivity: (v) => (typeof v === 'number' && v >= 1 && v <= 10 ? undefined : 'must be a number from 1 to 10'),
  minVolume: (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1_000_000
      ? undefined
      : 'must be a number from 0 to 1000000',
  endAfterNormalMinutes: (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1440
      ? undefined
      : 'must be a whole number from 1 to 1440',
  drops: (v) => (typeof v === 'boolean' ? undefined : 'must be true or false'),
};

/** The setting names, in documentation order. */
export const TUNING_SETTING_NAMES = Object.keys(SETTING_CHECKS) as (keyof TuningSettings)[];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with `value` as tuning settings, each problem naming `<path>.<field>`; [] when nothing. */
export function tuningSettingsProblems(value: unknown, path = 'settings'): string[] {
  if (!isObject(value)) return [`${path} must be an object`];
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(value)) {
    const check = SETTING_CHECKS[key as keyof TuningSettings] as ((v: unknown) => string | undefined) | undefined;
    if (!Object.hasOwn(SETTING_CHECKS, key) || !check) {
      problems.push(`${path}: unknown setting "${key}" (${TUNING_SETTING_NAMES.join(', ')})`);
      continue;
    }
    const problem = check(setting);
    if (problem) problems.push(`${path}.${key} ${problem}, got ${JSON.stringify(setting)}`);
  }
  return problems;
}

const SCOPE_FIELDS = ['accountId', 'region', 'eventSource', 'eventName'] as const;

/** What is wrong with `value` as a tuning scope, each problem naming `<path>.<field>`; [] when nothing. */
export function tuningScopeProblems(value: unknown, path = 'scope'): string[] {
  if (!isObject(value)) return [`${path} must be an object`];
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!(SCOPE_FIELDS as readonly string[]).includes(key))
      problems.push(`${path}: unknown field "${key}" (${SCOPE_FIELDS.join(', ')})`);
  }
  const field = (name: (typeof SCOPE_FIELDS)[number], problem: (v: unknown, n: string) => string | undefined) => {
    if (value[name] === undefined) return;
    const found = problem(value[name], `${path}.${name}`);
    if (found) problems.push(found);
  };
  field('accountId', accountIdProblem);
  field('region', regionProblem);
  field('eventSource', apiNameProblem);
  field('eventName', apiNameProblem);
  if (value.eventName !== undefined && value.eventSource === undefined)
    problems.push(`${path}.eventName needs ${path}.eventSource: an API is its service and its name`);
  return problems;
}
