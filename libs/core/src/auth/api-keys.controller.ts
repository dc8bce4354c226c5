import { Body, ConflictException, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../errors/error-response.dto.js';
import { ApiKeyStore } from './api-key.store.js';
import { CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';
import { RequireScope } from './require-scope.decorator.js';

/** `POST /v1/keys`: admins create keys when keys live in Redis (API_KEYS not set). */
@ApiTags('keys')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiUnauthorizedResponse({ type: ErrorResponseDto })
@ApiForbiddenResponse({ type: ErrorResponseDto, description: 'Needs the admin scope' })
@ApiTooManyRequestsResponse({ type: ErrorResponseDto })
@RequireScope('admin')
@Controller('v1/keys')
export class ApiKeysController {
  constructor(private readonly store: ApiKeyStore) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: 'Create an API key (its value is shown once; only its sha256 is stored)' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Keys come from API_KEYS' })
  async create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    if (this.store.fromConfig) throw new ConflictException('API keys come from API_KEYS; change it to add keys');
    const { key, keyId } = await this.store.create(body.scope);
    return { id: keyId, scope: body.scope, key };
  }
}
