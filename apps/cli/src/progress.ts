/** Progress on stderr: a self-rewriting line on a terminal, a line now and then otherwise. */
export class Progress {
  private lastWrite = 0;
  private readonly startedAt = Date.now();

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(message: string): void {
    const now = Date.now();
    if (now - this.lastWrite < (this.stream.isTTY ? 100 : 5_000)) return;
    this.lastWrite = now;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[K${message}`);
    else this.stream.write(`${message}\n`);
  }

  /**
   * A progress bar over input bytes (compressed, as read from disk), with the event rate and the
   * time left at that rate: `[#######-------]  48%  1,234,567 events  95,000 events/s  ETA 0:42`.
   */
  bar(doneBytes: number, totalBytes: number, events: number, files: string): void {
    const fraction = totalBytes > 0 ? Math.min(1, doneBytes / totalBytes) : 1;
    const seconds = Math.max(0.001, (Date.now() - this.startedAt) / 1000);
    const rate = events / seconds;
    const eta = fraction > 0 ? (seconds * (1 - fraction)) / fraction : Infinity;
    const width = 24;
    const filled = Math.round(fraction * width);
    const parts = [
      this.stream.isTTY ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : '',
      `${(fraction * 100).toFixed(0).padStart(3)}%`,
      `${events.toLocaleString('en-US')} events`,
      `${Math.round(rate).toLocaleString('en-US')} events/s`,
      `ETA ${formatDuration(eta)}`,
      files,
    ];
    this.update(parts.filter((part) => part !== '').join('  '));
  }

  done(message: string): void {
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${message}\n` : `${message}\n`);
  }

  note(message: string): void {
    this.stream.write(`${message}\n`);
  }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
