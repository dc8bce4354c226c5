import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const MB = 1024 * 1024;

/**
 * A ~4 MB gzip that decompresses to 4 GiB: `head`, then 256 gzip members of 16 MiB of `fill`
 * each (one ~16 KB member written 256 times), so the 4 GiB never exists anywhere.
 */
function writeBomb(path: string, head: string, fill: number): number {
  const member = gzipSync(Buffer.alloc(16 * MB, fill), { level: 9 });
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, gzipSync(Buffer.from(head)));
    for (let i = 0; i < 256; i++) writeSync(fd, member);
  } finally {
    closeSync(fd);
  }
  return statSync(path).size;
}

/** Peak resident set (VmHWM, Linux) of a child, sampled until it exits; killed past `killAboveMb`. */
function runMeasured(args: string[], killAboveMb: number) {
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let peakMb = 0;
  const sample = setInterval(() => {
    try {
      const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (kb) peakMb = Math.max(peakMb, Number(kb) / 1024);
    } catch {
      return; // exited between samples
    }
    if (peakMb > killAboveMb) child.kill('SIGKILL'); // do not let a regression take the machine
  }, 10);
  return new Promise<{ code: number | null; stdout: string; stderr: string; peakMb: number }>((resolve) => {
    child.once('exit', (code) => {
      clearInterval(sample);
      resolve({ code, stdout, stderr, peakMb });
    });
  });
}

describe('TRAIL_FILE_MAX_BYTES against 4 GiB gzip bombs (built CLI, a real process and real files)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trailsight-bombs-'));
    // CloudTrail's form (streamed), any other JSON form (held whole to parse), and plain zeros.
    const sizes = [
      writeBomb(join(dir, 'records.json.gz'), '{"Records":[', 0x20),
      writeBomb(join(dir, 'array.json.gz'), '[', 0x20),
      writeBomb(join(dir, 'zeros.json.gz'), '', 0x00),
    ];
    for (const size of sizes) expect(size).toBeLessThan(5 * MB);
    const record = {
      eventVersion: '1.08',
      eventTime: '2026-01-02T01:01:00Z',
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      awsRegion: 'us-east-1',
      eventID: 'good-1',
      recipientAccountId: '111122223333',
    };
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ Records: [record] }));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('detect reads each bomb only up to the default limit, rejects it as too-large and stays under 512 MB RSS', async () => {
    const run = await runMeasured(['dist/apps/cli/src/main.js', 'detect', dir], 600);
    expect(run.peakMb).toBeGreaterThan(0);
    expect(run.peakMb).toBeLessThan(512);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('read 1 records from 4 files');
    expect(run.stderr).toMatch(
      /rejected 3 too-large, e\.g\. .*: decompresses to more than the limit of 134217728 bytes/,
    );
  }, 120_000);

  it('--max-file-bytes lowers the limit; a bad value is a usage error', async () => {
    const run = await runMeasured(['dist/apps/cli/src/main.js', 'detect', '--max-file-bytes', String(MB), dir], 600);
    expect(run.stderr).toMatch(/rejected 3 too-large, e\.g\. .*: decompresses to more than the limit of 1048576 bytes/);
    const bad = await runMeasured(['dist/apps/cli/src/main.js', 'detect', '--max-file-bytes', 'lots', dir], 600);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-file-bytes must be a whole number >= 1, got "lots"');
  }, 60_000);
});
