import { accessSync, constants, statSync } from 'node:fs';
import { redactUrl } from '../logging/redact.js';

export type Env = Record<string, string | undefined>;

/**
 * Typed reads of one environment. A wrong value is recorded in `problems` (naming its variable)
 * and the fallback returned, so one start reports every problem at once.
 */
export class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.number(name, fallback, min, max);
    if (!Number.isInteger(value)) this.problems.push(`${name} must be a whole number, got "${this.raw(name)}"`);
    return value;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      this.problems.push(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  matching(name: string, pattern: RegExp, fallback: string, what: string): string {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!pattern.test(raw)) {
      this.problems.push(`${name} must be ${what}, got "${raw}"`);
      return fallback;
    }
    return raw;
  }

  optionalMatching(name: string, pattern: RegExp, what: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (!pattern.test(raw)) {
      this.problems.push(`${name} must be ${what}, got "${raw}"`);
      return undefined;
    }
    return raw;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    return this.optionalUrl(name, protocols) ?? fallback;
  }

  optionalUrl(name: string, protocols: string[]): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (!protocols.includes(url.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      // Redacted: a URL may carry a password (REDIS_URL), and this message reaches the logs.
      this.problems.push(
        `${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${redactUrl(raw)}"`,
      );
      return undefined;
    }
  }

  /** A path to a readable regular file. */
  optionalFile(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      accessSync(raw, constants.R_OK);
      if (!statSync(raw).isFile()) throw new Error('not a file');
      return raw;
    } catch {
      this.problems.push(`${name} must name a readable file, got "${raw}"`);
      return undefined;
    }
  }

  list(name: string, fallback: string[] = []): string[] {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
}
