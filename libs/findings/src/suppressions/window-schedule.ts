import { CronExpressionParser } from 'cron-parser';
import rrule, { type Options as RRuleOptions } from 'rrule';
import { MINUTE_MS } from '@trailsight/domain';

// rrule is CommonJS without named exports Node can see: take the class off its default export.
const { RRule } = rrule;
type RRule = InstanceType<typeof RRule>;

/**
 * When a maintenance window is open: once (`from` to `to`), or every occurrence of an RFC 5545
 * RRULE or a cron expression for `durationMinutes`, occurrences read as wall-clock times in the
 * IANA `timeZone` (so "02:00 on Saturdays" stays 02:00 across daylight-saving changes).
 */
export type WindowSchedule =
  | { from: string; to: string }
  | { rrule: string; durationMinutes: number; timeZone: string }
  | { cron: string; durationMinutes: number; timeZone: string };

/** Longest recurring window: a week. */
const MAX_DURATION_MINUTES = 7 * 24 * 60;

/** A schedule as a test of instants: is the window open at `ms`? */
export type ScheduleTest = (ms: number) => boolean;

/**
 * Problems with a schedule, each naming its field; empty when valid. `createdMs` is the default
 * DTSTART of an RRULE that names none.
 */
export function scheduleProblems(schedule: Partial<Record<string, unknown>>, createdMs = Date.now()): string[] {
  const kinds = ['from', 'rrule', 'cron'].filter((k) => schedule[k] !== undefined);
  if (kinds.length !== 1) return ['give exactly one of from/to (one-off), rrule or cron (recurring)'];
  if (kinds[0] === 'from') {
    const problems: string[] = [];
    const from = isoMs(schedule.from);
    const to = isoMs(schedule.to);
    if (from === undefined) problems.push('from must be an ISO 8601 date-time');
    if (to === undefined) problems.push('to must be an ISO 8601 date-time');
    if (from !== undefined && to !== undefined && to <= from) problems.push('to must be later than from');
    for (const field of ['durationMinutes', 'timeZone'])
      if (schedule[field] !== undefined) problems.push(`${field} applies to recurring windows only`);
    return problems;
  }
  const problems: string[] = [];
  const duration = schedule.durationMinutes;
  if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1 || duration > MAX_DURATION_MINUTES)
    problems.push(`durationMinutes must be a whole number from 1 to ${MAX_DURATION_MINUTES}`);
  if (typeof schedule.timeZone !== 'string' || !isTimeZone(schedule.timeZone))
    problems.push('timeZone must be an IANA time zone such as Europe/Paris or UTC');
  if (schedule.to !== undefined) problems.push('to applies to one-off windows only');
  // A bad time zone is reported above; the expression is still checked, in UTC.
  const timeZone = typeof schedule.timeZone === 'string' && isTimeZone(schedule.timeZone) ? schedule.timeZone : 'UTC';
  if (kinds[0] === 'rrule') {
    const problem =
      typeof schedule.rrule === 'string' ? rruleProblem(schedule.rrule, timeZone, createdMs) : 'not a string';
    if (problem) problems.push(`rrule is not a valid RFC 5545 RRULE: ${problem}`);
  } else {
    const problem = typeof schedule.cron === 'string' ? cronProblem(schedule.cron, timeZone) : 'not a string';
    if (problem) problems.push(`cron is not a valid cron expression: ${problem}`);
  }
  return problems;
}

/** The test of a valid schedule (see scheduleProblems). */
export function compileSchedule(schedule: WindowSchedule, createdMs: number): ScheduleTest {
  if ('from' in schedule) {
    const from = Date.parse(schedule.from);
    const to = Date.parse(schedule.to);
    return (ms) => ms >= from && ms < to;
  }
  const durationMs = schedule.durationMinutes * MINUTE_MS;
  const { timeZone } = schedule;
  if ('rrule' in schedule) {
    const rule = floatingRule(schedule.rrule, timeZone, createdMs);
    return (ms) => {
      // The rule runs on wall-clock times written as UTC; find the last start at or before `ms`.
      const last = rule.before(new Date(ms + offsetMs(ms, timeZone)), true);
      if (!last) return false;
      const start = instantOf(last.getTime(), timeZone);
      return ms >= start && ms < start + durationMs;
    };
  }
  return (ms) => {
    // cron-parser's prev() is strictly before currentDate: a start exactly at `ms` counts.
    const start = CronExpressionParser.parse(schedule.cron, { currentDate: new Date(ms + 1), tz: timeZone })
      .prev()
      .getTime();
    return ms >= start && ms < start + durationMs;
  };
}

function rruleProblem(text: string, timeZone: string, createdMs: number): string | undefined {
  if (text.length > 1_000) return 'at most 1,000 characters';
  try {
    const rule = floatingRule(text, timeZone, createdMs);
    const options = rule.origOptions;
    if (options.freq === undefined) return 'FREQ is required';
    if (options.freq === RRule.SECONDLY) return 'FREQ=SECONDLY is not supported';
    if (Array.isArray(options.byweekday) && options.byweekday.some((d) => d === undefined)) return 'bad BYDAY';
    rule.after(new Date(createdMs));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function cronProblem(text: string, timeZone: string): string | undefined {
  if (text.length > 200) return 'at most 200 characters';
  try {
    CronExpressionParser.parse(text, { tz: timeZone, strict: false }).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The rule over "floating" wall-clock times (each Date's UTC fields are the wall clock in
 * `timeZone`). DTSTART, when the text names one, is read as a wall-clock time in `timeZone`;
 * without it the rule starts at the window's creation, to the minute.
 */
function floatingRule(text: string, timeZone: string, createdMs: number): RRule {
  const parsed: Partial<RRuleOptions> = RRule.parseString(text.trim());
  const created = Math.floor((createdMs + offsetMs(createdMs, timeZone)) / MINUTE_MS) * MINUTE_MS;
  const { tzid: _ignored, ...options } = parsed;
  void _ignored;
  return new RRule({ ...options, dtstart: options.dtstart ?? new Date(created), tzid: null });
}

/** How far `timeZone`'s wall clock is ahead of UTC at the instant `ms`. */
function offsetMs(ms: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant whose wall clock in `timeZone` reads `wallMs` (the later one in a DST gap or overlap). */
function instantOf(wallMs: number, timeZone: string): number {
  const guess = wallMs - offsetMs(wallMs, timeZone);
  return wallMs - offsetMs(guess, timeZone);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function isTimeZone(value: string): boolean {
  try {
    formatter(value);
    return true;
  } catch {
    return false;
  }
}

function isoMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
