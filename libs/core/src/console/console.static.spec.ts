import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { mountConsole } from './console.static.js';

@Module({})
class EmptyModule {}

describe('mountConsole', () => {
  let dir: string;
  const apps: NestFastifyApplication[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trailsight-console-'));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(root: string): Promise<{ url: string; warnings: string[] }> {
    const app = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), { logger: false });
    apps.push(app);
    const warnings: string[] = [];
    await mountConsole(app, { warn: (message: string) => warnings.push(message) }, root);
    await app.listen(0, '127.0.0.1');
    return { url: await app.getUrl(), warnings };
  }

  it('serves hashed assets for a year, index.html revalidated, and redirects / and /console', async () => {
    const root = join(dir, 'built');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'assets', 'main-AB12CD34.js'), 'export {};');
    writeFileSync(join(root, 'assets', 'notes.txt'), 'not hashed');
    const { url, warnings } = await serve(root);
    expect(warnings).toEqual([]);

    const index = await fetch(`${url}/console/`);
    expect([index.status, index.headers.get('cache-control')]).toEqual([200, 'no-cache']);
    expect(await index.text()).toContain('<title>t</title>');
    const asset = await fetch(`${url}/console/assets/main-AB12CD34.js`);
    expect([asset.status, asset.headers.get('cache-control')]).toEqual([200, 'public, max-age=31536000, immutable']);
    expect((await fetch(`${url}/console/assets/notes.txt`)).headers.get('cache-control')).toBe('no-cache');
    const root302 = await fetch(`${url}/`, { redirect: 'manual' });
    expect([root302.status, root302.headers.get('location')]).toEqual([302, '/console/']);
    const bare = await fetch(`${url}/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([302, '/console/']);
    expect((await fetch(`${url}/console/assets/missing-AB12CD34.js`)).status).toBe(404);
  });

  it('serves nothing from a tree without the built console, and says how to build it', async () => {
    const { url, warnings } = await serve(join(dir, 'absent'));
    expect(warnings).toEqual([expect.stringMatching(/not built .*npm run build/)]);
    expect((await fetch(`${url}/console/`)).status).toBe(404);
  });
});
