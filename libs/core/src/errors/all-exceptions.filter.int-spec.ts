import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpException,
  NotFoundException,
  Post,
  ValidationPipe,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { JSON_BODY_LIMIT_BYTES, JSON_MAX_DEPTH, useJsonBodies } from '../bootstrap/json-body.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';

class CreateThingDto {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  size!: number;
}

@Controller('boom')
class ThrowingController {
  @Get('not-found')
  notFound(): never {
    throw new NotFoundException('Finding f-1 not found');
  }

  @Get('forbidden')
  forbidden(): never {
    throw new ForbiddenException();
  }

  @Get('teapot')
  teapot(): never {
    throw new HttpException('short and stout', 418);
  }

  @Get('crash')
  crash(): never {
    throw new TypeError('Cannot read properties of undefined (secret internals)');
  }

  @Get('reject')
  async reject(): Promise<never> {
    await Promise.resolve();
    // Not even an Error: still a 500 with an id.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw 'a string';
  }

  @Post('things')
  create(@Body() dto: CreateThingDto): CreateThingDto {
    return dto;
  }
}

/** Keeps what the app logs, to find the errorId and stack. */
class CapturingLogger implements LoggerService {
  readonly errors: string[] = [];
  log(): void {}
  warn(): void {}
  error(...args: unknown[]): void {
    this.errors.push(args.map(String).join(' '));
  }
}

describe('AllExceptionsFilter', () => {
  let app: INestApplication;
  let base: string;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ThrowingController],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }) },
      ],
    }).compile();
    const fastifyApp = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger,
      bodyParser: false,
    });
    useJsonBodies(fastifyApp); // as serveApp does
    app = fastifyApp;
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  async function call(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${base}${path}`, init);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('answers an HttpException with its status and { statusCode, message, error }', async () => {
    await expect(call('/boom/not-found')).resolves.toEqual({
      status: 404,
      body: { statusCode: 404, message: 'Finding f-1 not found', error: 'Not Found' },
    });
    await expect(call('/boom/forbidden')).resolves.toEqual({
      status: 403,
      body: { statusCode: 403, message: 'Forbidden', error: 'Forbidden' },
    });
    await expect(call('/boom/teapot')).resolves.toEqual({
      status: 418,
      body: { statusCode: 418, message: 'short and stout', error: "I'm a Teapot" },
    });
  });

  it('keeps the message array of a validation failure', async () => {
    const { status, body } = await call('/boom/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 7, size: 0, extra: true }),
    });
    expect(status).toBe(400);
    expect(body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.arrayContaining([
        'property extra should not exist',
        'name must be a string',
        'size must not be less than 1',
      ]),
    });
  });

  it('answers malformed JSON with a 400, not a 500', async () => {
    const { status, body } = await call('/boom/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body).not.toHaveProperty('errorId');
  });

  it('answers anything else with a 500 and an errorId, logging the stack under that id', async () => {
    for (const path of ['/boom/crash', '/boom/reject']) {
      const { status, body } = await call(path);
      expect(status).toBe(500);
      expect(body).toEqual({ statusCode: 500, message: 'Internal server error', errorId: expect.any(String) });
      const errorId = body.errorId as string;
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(body)).not.toContain('secret internals');
      const logged = logger.errors.find((line) => line.includes(errorId));
      expect(logged).toBeDefined();
      expect(logged).toContain(`GET ${path}`);
    }
    const crash = logger.errors.find((line) => line.includes('secret internals'));
    expect(crash).toContain('at ThrowingController.crash');
  });

  it('gives every 500 its own errorId', async () => {
    const [a, b] = await Promise.all([call('/boom/crash'), call('/boom/crash')]);
    expect(a.body.errorId).not.toEqual(b.body.errorId);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { status, body } = await call('/nowhere');
    expect(status).toBe(404);
    expect(body).toEqual({ statusCode: 404, message: 'Cannot GET /nowhere', error: 'Not Found' });
  });
  describe('JSON bodies (useJsonBodies)', () => {
    const post = (body: string) =>
      call('/boom/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    it('treats an empty body announced as JSON as no body: validation answers, not the parser', async () => {
      const { status, body } = await post('');
      expect(status).toBe(400);
      expect(body.message).toEqual(expect.arrayContaining(['name must be a string']));
    });

    it(`refuses nesting deeper than ${JSON_MAX_DEPTH} levels with a 400, before validation recurses into it`, async () => {
      const deep = `{"name":"x","size":1,"extra":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
      await expect(post(deep)).resolves.toMatchObject({
        status: 400,
        body: { message: `the JSON body is nested deeper than ${JSON_MAX_DEPTH} levels` },
      });
      // Brackets inside strings are text, not nesting.
      const text = JSON.stringify({ name: '['.repeat(1_000), size: 2 });
      await expect(post(text)).resolves.toMatchObject({ status: 201, body: { size: 2 } });
    });

    it('refuses __proto__ keys and bodies over the limit', async () => {
      await expect(post('{"name":"x","size":1,"__proto__":{"admin":true}}')).resolves.toMatchObject({ status: 400 });
      const huge = JSON.stringify({ name: 'x'.repeat(JSON_BODY_LIMIT_BYTES), size: 1 });
      await expect(post(huge)).resolves.toMatchObject({ status: 413, body: { statusCode: 413 } });
    });
  });
});
