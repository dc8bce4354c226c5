import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiPrincipal } from './api-key.store.js';

/**
 * The id of the API key that made the request (set by ApiKeyGuard), for audit trails. Only on
 * routes that need a key; `unknown` if none was checked, which a guarded route never sees.
 */
export const CallerKeyId = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<{ principal?: ApiPrincipal }>();
  return request.principal?.keyId ?? 'unknown';
});
