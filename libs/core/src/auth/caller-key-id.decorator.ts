import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiPrincipal } from './api-key.store.js';

/**
 * The id of the API key that made the request (the guard sets `request.principal`), for
 * records of who did what. Only on routes behind a scope: a public route has no caller.
 */
export const CallerKeyId = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const principal = context.switchToHttp().getRequest<{ principal?: ApiPrincipal }>().principal;
  if (!principal) throw new Error('CallerKeyId used on a route without an API key');
  return principal.keyId;
});
