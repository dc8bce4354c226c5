import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Req,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyErrorResponses, ApiNotFoundError } from '../errors/api-error-responses.js';
import { ErrorResponseDto } from '../errors/error-response.dto.js';
import { ApiKeyStore, AwsKeysUnavailableError, type ApiPrincipal } from './api-key.store.js';
import {
  ApiKeyIdParamDto,
  ApiKeyListDto,
  ApiKeySelfDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
} from './dto/api-key.dto.js';
import { RequireScope } from './require-scope.decorator.js';

const FROM_CONFIG = 'API keys come from API_KEYS; change it to add or remove keys';

/**
 * `/v1/keys`: admins create, list and revoke keys when keys live in Redis (API_KEYS not set); any
 * key may ask what it is (`/v1/keys/self`).
 */
@ApiTags('keys')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('admin')
@Controller('v1/keys')
export class ApiKeysController {
  constructor(private readonly store: ApiKeyStore) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary:
      'Create an API key (its value is shown once; only its sha256 is stored), or with kind aws an access key id and secret for SigV4 on /aws (the secret shown once, stored encrypted under SECRETS_KEY)',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'Keys come from API_KEYS, or an aws key without SECRETS_KEY',
  })
  async create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    if (this.store.fromConfig) throw new ConflictException(FROM_CONFIG);
    if (body.kind === 'aws') {
      try {
        const created = await this.store.createAws(body.scope, body.accountId);
        return {
          id: created.keyId,
          scope: body.scope,
          kind: 'aws',
          accessKeyId: created.accessKeyId,
          secretAccessKey: created.secretAccessKey,
          ...(body.accountId === undefined ? {} : { accountId: body.accountId }),
        };
      } catch (error) {
        if (error instanceof AwsKeysUnavailableError) throw new ConflictException(error.message);
        throw error;
      }
    }
    if (body.accountId !== undefined) throw new BadRequestException(['accountId applies to aws keys only']);
    const { key, keyId } = await this.store.create(body.scope);
    return { id: keyId, scope: body.scope, kind: 'api', key };
  }

  @Get()
  @ApiOperation({ summary: 'List API keys: ids, scopes, creation and last use (never a key or its hash)' })
  @ApiOkResponse({ type: ApiKeyListDto })
  async list(): Promise<ApiKeyListDto> {
    return { items: await this.store.list() };
  }

  @Get('self')
  @RequireScope('read')
  @ApiOperation({
    summary: 'The calling key: its id and scope (the web console shows admin actions only to admin keys)',
  })
  @ApiOkResponse({ type: ApiKeySelfDto })
  self(@Req() request: { principal?: ApiPrincipal }): ApiKeySelfDto {
    // The guard has set the principal: this route needs a key.
    const { keyId, scope } = request.principal!;
    return { id: keyId, scope };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke an API key: every replica refuses it within a second' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('No API key with id 3f9c1a7b2e4d')
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Keys come from API_KEYS' })
  async revoke(@Param() params: ApiKeyIdParamDto): Promise<void> {
    if (this.store.fromConfig) throw new ConflictException(FROM_CONFIG);
    if (!(await this.store.revoke(params.id))) throw new NotFoundException(`No API key with id ${params.id}`);
  }
}
