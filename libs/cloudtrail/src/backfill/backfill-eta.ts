/**
 * Estimates when each back-fill ends from its progress so far: the average rate since this
 * process first saw it (a back-fill runs at the steady LookupEvents budget, or as fast as the
 * detector counts files, so the long average is the honest one). Pure: the caller passes the time.
 */
export class BackfillEta {
  private readonly first = new Map<string, { atMs: number; ratio: number }>();

  /** Seconds left for `key` at `ratio` (0..1) now; 0 when done; undefined until it has moved. */
  estimate(key: string, ratio: number, nowMs: number): number | undefined {
    if (ratio >= 1) return 0;
    const first = this.first.get(key);
    if (!first) {
      this.first.set(key, { atMs: nowMs, ratio });
      return undefined;
    }
    const done = ratio - first.ratio;
    if (done <= 0 || nowMs <= first.atMs) return undefined;
    return Math.round((((1 - ratio) / done) * (nowMs - first.atMs)) / 1000);
  }
}

/** `1h 05m`, `4m 10s`, `12s`: an ETA for a log line. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined) return 'ETA unknown yet';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `ETA ${h}h ${String(m).padStart(2, '0')}m`;
  return m > 0 ? `ETA ${m}m ${String(s).padStart(2, '0')}s` : `ETA ${s}s`;
}
