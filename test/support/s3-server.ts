import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Credentials s3rver accepts (it checks the access key id, not the signature's secret). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * A real S3-compatible HTTP server (the s3rver npm package, in a child process) on a free loopback
 * port, its data in a throwaway directory; the real @aws-sdk/client-s3 talks to it (path-style).
 */
export interface LocalS3 {
  url: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Uploads every file under `root` with its path relative to root as the key (prefixed). */
  upload(bucket: string, root: string, files: readonly string[], prefix?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3(): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'trailsight-s3-'));
  // Compiled copies of test/support (the reliability runner's) hold no .mjs: then the checkout's.
  const compiled = fileURLToPath(new URL('../../test/support/s3rver.child.mjs', import.meta.url));
  const script = existsSync(compiled) ? compiled : join(process.cwd(), 'test/support/s3rver.child.mjs');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script, directory], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  child.removeAllListeners('exit');
  const url = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: url,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  return {
    url,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async upload(bucket, root, files, prefix = '') {
      for (const file of files) {
        const key = `${prefix}${relative(root, file).split('\\').join('/')}`;
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
      }
    },
    async stop() {
      client.destroy();
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
