import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled tree this file runs from (the runner compiles apps, libs and tests side by side). */
const compiledRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `trailsight` is all three in one process, as `npm start` runs them. */
export type AppName = 'api' | 'poller' | 'detector' | 'trailsight';

/**
 * One app process, as production runs it. Unlike test/support's startApp it keeps everything the
 * process printed (for the secrets grep) and knows whether an exit was asked for: any other exit
 * is a crash.
 */
export interface RunningApp {
  name: string;
  port: number;
  pid: number;
  output(): string;
  healthy(timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** True once the process exited without being told to. */
  crashed(): boolean;
  /** Resident set size in MB (Linux /proc), or NaN once gone. */
  rssMb(): number;
}

export function launchApp(app: AppName, label: string, env: Record<string, string>): RunningApp {
  const port = Number(env.PORT);
  const child: ChildProcess = spawn(process.execPath, [`${compiledRoot}apps/${app}/src/main.js`], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    // Kept whole up to 50 MB: the secrets grep must see everything a process printed.
    if (size < 50_000_000) chunks.push(chunk.toString());
    size += chunk.length;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = () => chunks.join('');
  return {
    name: label,
    port,
    pid: child.pid ?? -1,
    output,
    async healthy(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}):\n${output().slice(-3000)}`);
        try {
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) });
          await response.arrayBuffer();
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(`${label} not healthy after ${timeoutMs} ms:\n${output().slice(-3000)}`);
        await sleep(200);
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    crashed: () => !stopping && (child.exitCode !== null || child.signalCode !== null),
    rssMb() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
        return kb ? Number(kb) / 1024 : Number.NaN;
      } catch {
        return Number.NaN;
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface HttpResult {
  status: number;
  text: string;
  headers: Headers;
  ms: number;
}

/** One HTTP request; a network failure is status 0 with the error as text (never a throw). */
export async function http(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    return { status: response.status, text, headers: response.headers, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, text: String(error), headers: new Headers(), ms: performance.now() - started };
  }
}
