import { applyDecorators } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto.js';

const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
};

/** An error body as AllExceptionsFilter sends it, for a response's example in the OpenAPI document. */
function errorExample(statusCode: number, message: string): ErrorResponseDto {
  return { statusCode, message, error: REASONS[statusCode] ?? 'Error' };
}

/**
 * The answers of the API-key guard on a controller or route, each with its own example (the
 * error DTO's own example is a 400's).
 */
export function ApiKeyErrorResponses(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiUnauthorizedResponse({
      type: ErrorResponseDto,
      description: 'No API key, or an unknown one',
      example: errorExample(401, 'Unknown API key'),
    }),
    ApiForbiddenResponse({
      type: ErrorResponseDto,
      description: 'The key lacks the scope',
      example: errorExample(403, 'This route needs an API key with the admin scope'),
    }),
    ApiTooManyRequestsResponse({
      type: ErrorResponseDto,
      description: 'Over the key\u2019s rate limit, or too many unknown keys from one address; see Retry-After',
      example: errorExample(429, 'Rate limit of 600 requests per window exceeded; retry in 12 s'),
    }),
  );
}

/** A 404 with the message the route sends, e.g. `Finding <id> not found`. */
export function ApiNotFoundError(message: string): MethodDecorator & ClassDecorator {
  return ApiNotFoundResponse({ type: ErrorResponseDto, example: errorExample(404, message) });
}
