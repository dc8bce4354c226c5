import { BadRequestException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Request bodies here are small (a subscription, a key request); Express's default limit. */
export const JSON_BODY_LIMIT_BYTES = 100 * 1024;
/** Deeper JSON is refused before it reaches validation, whose recursion it could exhaust. */
export const JSON_MAX_DEPTH = 64;

/**
 * The JSON body parser every app uses: Fastify's own (which refuses `__proto__` and
 * `constructor.prototype` keys), behind two checks. An empty body is no body, so a request that
 * only announces JSON (a DELETE with `Content-Type: application/json`) reaches the auth guard and
 * the route rather than a parser error; and nesting deeper than JSON_MAX_DEPTH is a 400.
 * Create the app with `{ bodyParser: false }` (Nest's parsers stay out); other media types get 415.
 */
export function useJsonBodies(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: JSON_BODY_LIMIT_BYTES },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      if (depthOf(text) > JSON_MAX_DEPTH) {
        return done(new BadRequestException(`the JSON body is nested deeper than ${JSON_MAX_DEPTH} levels`), undefined);
      }
      void parse(request, text, done); // Fastify's parser answers through done()
    },
  );
}

/** Deepest bracket nesting outside strings; a malformed text is left for JSON.parse to refuse. */
function depthOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
