import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Where `npm run build` writes the console (console/build.mjs): dist/console beside dist/libs. */
const BUILT_CONSOLE = fileURLToPath(new URL('../../../../console/', import.meta.url));
const HASHED_ASSET = /\/assets\/[^/]+-[A-Z0-9]{8}\.(js|css)$/;

/**
 * The web console at /console (and / redirects there): static files only, so the API's key guard
 * never sees them and the browser calls /v1 on the same origin with the key it was given.
 * Hashed assets are cached for a year; index.html, which names them, is revalidated every time.
 * A tree without the built console (tests run from source) serves none and says so.
 */
export async function mountConsole(
  app: NestFastifyApplication,
  logger: Pick<Logger, 'warn'>,
  root = BUILT_CONSOLE,
): Promise<void> {
  if (!existsSync(join(root, 'index.html')) || !existsSync(join(root, 'assets'))) {
    logger.warn(`The web console is not built (no ${root}): run npm run build`);
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/console/',
    // The Swagger console registers @fastify/static too: one reply decoration is enough.
    decorateReply: false,
    index: 'index.html',
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('Cache-Control', HASHED_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // `/` and `/console` land on the index; its assets are named from /console/.
  const fastify = app.getHttpAdapter().getInstance();
  for (const path of ['/', '/console']) fastify.get(path, (_request, reply) => reply.redirect('/console/', 302));
}
