/** What one scenario measured: printed on its line, in the order given. */
export type Figures = Record<string, number | string | boolean>;

export interface ScenarioResult {
  name: string;
  passed: boolean;
  seconds: number;
  figures: Figures;
  error?: string;
}

/** The totals of the final JSON line; every one but the first two must end at 0. */
export interface Summary {
  scenarios: number;
  passed: number;
  events_lost: number;
  events_double_counted: number;
  crashes: number;
  server_errors_on_bad_input: number;
}

/**
 * Runs scenarios, prints one line each (PASS/FAIL, name, key figures) as it finishes, and keeps
 * the totals. A scenario fails by throwing; its figures so far are still printed.
 */
export class Report {
  readonly results: ScenarioResult[] = [];
  eventsLost = 0;
  eventsDoubleCounted = 0;
  crashes = 0;
  serverErrorsOnBadInput = 0;

  /** RELIABILITY_ONLY=prefix[,prefix…] runs just those scenarios (and setup/final): for working on one area. */
  private readonly only = (process.env.RELIABILITY_ONLY ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);

  async scenario(name: string, body: (figures: Figures) => Promise<void>): Promise<boolean> {
    if (this.only.length > 0 && !/^(setup|final)\//.test(name) && !this.only.some((p) => name.startsWith(p))) {
      this.skip(name, 'not selected by RELIABILITY_ONLY');
      return true;
    }
    const figures: Figures = {};
    const started = Date.now();
    let error: string | undefined;
    try {
      await body(figures);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const result: ScenarioResult = {
      name,
      passed: error === undefined,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      figures,
      ...(error === undefined ? {} : { error }),
    };
    this.results.push(result);
    process.stdout.write(`${formatLine(result)}\n`);
    return result.passed;
  }

  /** A scenario that could not run (a dependency failed or data is absent) counts as failed unless skipped on purpose. */
  skip(name: string, why: string): void {
    process.stdout.write(`SKIP ${name}: ${why}\n`);
  }

  summary(): Summary {
    return {
      scenarios: this.results.length,
      passed: this.results.filter((r) => r.passed).length,
      events_lost: this.eventsLost,
      events_double_counted: this.eventsDoubleCounted,
      crashes: this.crashes,
      server_errors_on_bad_input: this.serverErrorsOnBadInput,
    };
  }

  ok(): boolean {
    const s = this.summary();
    return (
      s.scenarios > 0 &&
      s.passed === s.scenarios &&
      s.events_lost === 0 &&
      s.events_double_counted === 0 &&
      s.crashes === 0 &&
      s.server_errors_on_bad_input === 0
    );
  }
}

function formatLine(result: ScenarioResult): string {
  const figures = Object.entries(result.figures)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(1) : String(value)}`,
    )
    .join(' ');
  const head = `${result.passed ? 'PASS' : 'FAIL'} ${result.name} (${result.seconds}s)`;
  const error = result.error ? ` -- ${result.error.replace(/\s+/g, ' ').slice(0, 600)}` : '';
  return `${head}${figures ? ` ${figures}` : ''}${error}`;
}

/** Throws with `message` unless `condition` holds: scenario bodies state their expectations with it. */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
