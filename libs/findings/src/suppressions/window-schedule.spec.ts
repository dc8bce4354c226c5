import { compileSchedule, scheduleProblems } from './window-schedule.js';

const created = Date.parse('2026-01-01T00:00:00Z');
const at = (iso: string) => Date.parse(iso);

describe('scheduleProblems', () => {
  it('accepts one-off, RRULE and cron schedules', () => {
    expect(scheduleProblems({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T02:00:00Z' })).toEqual([]);
    expect(
      scheduleProblems({
        rrule: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=0',
        durationMinutes: 60,
        timeZone: 'Europe/Paris',
      }),
    ).toEqual([]);
    expect(scheduleProblems({ cron: '0 2 * * 6', durationMinutes: 60, timeZone: 'America/New_York' })).toEqual([]);
  });

  it('names the field of a bad RRULE, cron, time zone or period', () => {
    expect(scheduleProblems({ rrule: 'garbage', durationMinutes: 60, timeZone: 'UTC' })).toEqual([
      expect.stringMatching(/^rrule is not a valid RFC 5545 RRULE/),
    ]);
    expect(scheduleProblems({ rrule: 'FREQ=WEEKLY;BYDAY=XX', durationMinutes: 60, timeZone: 'UTC' })).toEqual([
      expect.stringMatching(/^rrule /),
    ]);
    expect(scheduleProblems({ cron: '0 99 * * 6', durationMinutes: 60, timeZone: 'UTC' })).toEqual([
      expect.stringMatching(/^cron is not a valid cron expression/),
    ]);
    expect(scheduleProblems({ cron: '0 2 * * 6', durationMinutes: 60, timeZone: 'Mars/Olympus' })).toEqual([
      expect.stringMatching(/^timeZone must be an IANA time zone/),
    ]);
    expect(scheduleProblems({ cron: '0 2 * * 6', durationMinutes: 0, timeZone: 'UTC' })).toEqual([
      expect.stringMatching(/^durationMinutes /),
    ]);
    expect(scheduleProblems({ from: '2026-01-01T02:00:00Z', to: '2026-01-01T01:00:00Z' })).toEqual([
      'to must be later than from',
    ]);
    expect(scheduleProblems({ from: 'yesterday', to: '2026-01-01T01:00:00Z' })).toEqual([
      'from must be an ISO 8601 date-time',
    ]);
    expect(scheduleProblems({})).toEqual([expect.stringMatching(/exactly one of/)]);
    expect(scheduleProblems({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z', cron: '* * * * *' })).toEqual([
      expect.stringMatching(/exactly one of/),
    ]);
  });
});

describe('compileSchedule', () => {
  it('opens a one-off window from `from` (included) to `to` (excluded)', () => {
    const open = compileSchedule({ from: '2026-01-01T10:00:00Z', to: '2026-01-01T11:00:00Z' }, created);
    expect(
      [
        at('2026-01-01T09:59:59Z'),
        at('2026-01-01T10:00:00Z'),
        at('2026-01-01T10:59:59Z'),
        at('2026-01-01T11:00:00Z'),
      ].map(open),
    ).toEqual([false, true, true, false]);
  });

  // Saturdays 02:00-03:00 in Paris: 01:00Z in winter (UTC+1), 00:00Z in summer (UTC+2).
  const cases = [
    ['2026-01-03T00:59:00Z', false],
    ['2026-01-03T01:00:00Z', true],
    ['2026-01-03T01:59:00Z', true],
    ['2026-01-03T02:00:00Z', false],
    ['2026-01-04T01:30:00Z', false],
    ['2026-07-04T00:30:00Z', true],
    ['2026-07-04T01:30:00Z', false],
  ] as const;

  it('follows an RRULE in its time zone across daylight saving', () => {
    const open = compileSchedule(
      { rrule: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=0;BYSECOND=0', durationMinutes: 60, timeZone: 'Europe/Paris' },
      created,
    );
    expect(cases.map(([iso]) => [iso, open(at(iso))])).toEqual(cases);
  });

  it('follows a cron expression in its time zone across daylight saving', () => {
    const open = compileSchedule({ cron: '0 2 * * 6', durationMinutes: 60, timeZone: 'Europe/Paris' }, created);
    expect(cases.map(([iso]) => [iso, open(at(iso))])).toEqual(cases);
  });

  it('starts an RRULE without DTSTART at the window creation', () => {
    const open = compileSchedule({ rrule: 'FREQ=DAILY;BYHOUR=12', durationMinutes: 30, timeZone: 'UTC' }, created);
    expect(open(at('2025-12-31T12:10:00Z'))).toBe(false);
    expect(open(at('2026-01-01T12:10:00Z'))).toBe(true);
    expect(open(at('2026-01-01T12:30:00Z'))).toBe(false);
  });
});
