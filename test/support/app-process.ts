import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: this file runs from test/support (jest) or, compiled, from dist/test/support (test:cluster). */
const repoRoot = fileURLToPath(
  new URL(import.meta.url.includes('/dist/test/') ? '../../../' : '../../', import.meta.url),
);

/** One of our apps (built under dist/) running as its own process, as in production. */
export interface AppProcess {
  name: string;
  port: number;
  child: ChildProcess;
  /** Everything it printed, for assertions and for failure messages. */
  output(): string;
  /** Resolves when GET /health/ready answers 200 (the process serves HTTP and reaches Redis). */
  healthy(timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful) or SIGKILL (crash); resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startApp(app: 'api' | 'poller' | 'detector' | 'trailsight', env: Record<string, string>): AppProcess {
  const port = Number(env.PORT);
  const child = spawn(process.execPath, [`dist/apps/${app}/src/main.js`], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // E2E_APP_LOGS=<dir>: every app's whole output in <dir>/<app>-<pid>.log, to read after a failure.
  if (process.env.E2E_APP_LOGS) {
    const file = createWriteStream(join(process.env.E2E_APP_LOGS, `${app}-${child.pid}.log`));
    // Both streams into one file: neither may end it while the other still writes.
    child.stdout?.pipe(file, { end: false });
    child.stderr?.pipe(file, { end: false });
    child.once('close', () => file.end());
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    name: app,
    port,
    child,
    output: () => output,
    async healthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode}:\n${output.slice(-4000)}`);
        try {
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${app} not healthy after ${timeoutMs} ms:\n${output.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
