import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AddressLimiter } from './address-limiter.js';
import { ApiKeyStore, type ApiPrincipal } from './api-key.store.js';
import { AuthStats } from './auth.stats.js';
import { RateLimiter } from './rate-limiter.repository.js';
import { REQUIRED_SCOPE, type ApiScope } from './require-scope.decorator.js';

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The client's address (the TCP peer: Fastify's and Express's request.ip). */
  ip?: string;
  principal?: ApiPrincipal;
}

/** Express's response and Fastify's reply both set a header with header(). */
interface HttpResponse {
  header(name: string, value: string | number): unknown;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The global guard (APP_GUARD of AuthModule): every route needs an API key with the scope its
 * RequireScope names, unless it is a PublicRoute. A route that says neither needs `admin`, so a
 * forgotten decorator fails closed. Order: 429 when the client's address has presented too many
 * unknown keys (before any lookup: only keys this process already knows still pass), 401 (no or
 * unknown key), 429 (over the key's rate limit), 403 (scope too low). Every 429 has Retry-After.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly store: ApiKeyStore,
    private readonly limiter: RateLimiter,
    private readonly addresses: AddressLimiter,
    private readonly stats: AuthStats,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const required =
      this.reflector.getAllAndOverride<ApiScope | 'public' | undefined>(REQUIRED_SCOPE, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'admin';
    if (required === 'public') return true;

    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<HttpResponse>();
    const presented = presentedKey(request);
    if (presented === undefined) {
      this.stats.unauthorized++;
      response.header('WWW-Authenticate', 'Bearer realm="trailsight"');
      throw new UnauthorizedException('An API key is required: Authorization: Bearer <key> or X-Api-Key: <key>');
    }
    // A key this process knows passes at once; any other first spends a token of the client's
    // address, so guesses (even concurrent ones) are refused before they cost a Redis lookup.
    let principal = this.store.known(presented);
    if (!principal) {
      const address = request.ip ?? 'unknown';
      const budget = this.addresses.take(address);
      if (!budget.allowed) {
        this.stats.addressLimited++;
        response.header('Retry-After', budget.retryAfterSeconds);
        throw new HttpException(
          `Too many unknown API keys from this address; retry in ${budget.retryAfterSeconds} s`,
          HttpStatus.TOO_MANY_REQUESTS,
        );
      }
      principal = await this.store.verify(presented);
      if (principal) this.addresses.refund(address);
    }
    if (!principal) {
      this.stats.unauthorized++;
      response.header('WWW-Authenticate', 'Bearer realm="trailsight", error="invalid_token"');
      throw new UnauthorizedException('Unknown API key');
    }
    request.principal = principal;

    if (this.limiter.enabled) {
      const decision = await this.limiter.hit(principal.keyId);
      response.header('X-RateLimit-Limit', decision.limit);
      response.header('X-RateLimit-Remaining', decision.remaining);
      response.header('X-RateLimit-Reset', decision.resetSeconds);
      if (!decision.allowed) {
        this.stats.rateLimited++;
        response.header('Retry-After', decision.retryAfterSeconds);
        throw new HttpException(
          `Rate limit of ${decision.limit} requests per window exceeded; retry in ${decision.retryAfterSeconds} s`,
          HttpStatus.TOO_MANY_REQUESTS,
        );
      }
    }

    if (required === 'admin' && principal.scope !== 'admin') {
      this.stats.forbidden++;
      throw new ForbiddenException('This route needs an API key with the admin scope');
    }
    return true;
  }
}

/** `Authorization: Bearer <key>` first, then `X-Api-Key: <key>`. */
function presentedKey(request: HttpRequest): string | undefined {
  const authorization = single(request.headers.authorization);
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    if (match) return match[1];
  }
  const header = single(request.headers['x-api-key'])?.trim();
  return header === undefined || header === '' ? undefined : header;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
