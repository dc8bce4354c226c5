/** Progress on stderr: a self-rewriting line on a terminal, a line now and then otherwise. */
export class Progress {
  private lastWrite = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(message: string): void {
    const now = Date.now();
    if (now - this.lastWrite < (this.stream.isTTY ? 100 : 5_000)) return;
    this.lastWrite = now;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[K${message}`);
    else this.stream.write(`${message}\n`);
  }

  done(message: string): void {
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${message}\n` : `${message}\n`);
  }

  note(message: string): void {
    this.stream.write(`${message}\n`);
  }
}
