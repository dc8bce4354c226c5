import { compileMatch, type Matcher, type MatchSubject } from './suppression-match.js';
import type { SuppressionsRepository } from './suppressions.repository.js';
import { compileSchedule, type ScheduleTest } from './window-schedule.js';

/** How long the rules and windows read from Redis are used before they are read again. */
const SUPPRESSIONS_REFRESH_MS = 5_000;

interface CompiledRule {
  id: string;
  matches: Matcher;
  expiresMs: number;
}

interface CompiledWindow {
  id: string;
  matches: Matcher;
  openAt: ScheduleTest;
}

interface Compiled {
  rules: CompiledRule[];
  windows: CompiledWindow[];
  loadedMs: number;
}

/**
 * Which rules and windows mute a new finding. Rules and windows are read from Redis at most
 * every SUPPRESSIONS_REFRESH_MS and kept compiled, so the evaluator does not read Redis per
 * insight; a change made through the API applies within that delay. Expiry is checked against
 * the clock on every call, so an expired rule stops matching on time, cache or not.
 */
export class SuppressionEvaluator {
  private compiled?: Compiled;
  private loading?: Promise<Compiled>;

  constructor(
    private readonly repository: SuppressionsRepository,
    private readonly refreshMs = SUPPRESSIONS_REFRESH_MS,
  ) {}

  /**
   * Ids of the unexpired rules matching the finding, then of the windows matching it that were
   * open at its start (`startMs`). Empty when nothing mutes it.
   */
  async suppressedBy(subject: MatchSubject, startMs: number, nowMs = Date.now()): Promise<string[]> {
    const { rules, windows } = await this.current(nowMs);
    return [
      ...rules.filter((r) => r.expiresMs > nowMs && r.matches(subject)).map((r) => r.id),
      ...windows.filter((w) => w.openAt(startMs) && w.matches(subject)).map((w) => w.id),
    ];
  }

  private async current(nowMs: number): Promise<Compiled> {
    if (this.compiled && nowMs - this.compiled.loadedMs < this.refreshMs) return this.compiled;
    this.loading ??= this.load(nowMs).finally(() => (this.loading = undefined));
    this.compiled = await this.loading;
    return this.compiled;
  }

  private async load(nowMs: number): Promise<Compiled> {
    const [rules, windows] = await Promise.all([this.repository.listRules(), this.repository.listWindows()]);
    return {
      loadedMs: nowMs,
      rules: rules.map((rule) => ({
        id: rule.id,
        matches: compileMatch(rule.match),
        expiresMs: rule.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(rule.expiresAt),
      })),
      windows: windows.map((window) => ({
        id: window.id,
        matches: compileMatch(window.match),
        openAt: compileSchedule(window, Date.parse(window.createdAt)),
      })),
    };
  }
}
