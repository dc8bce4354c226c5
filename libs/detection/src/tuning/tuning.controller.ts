import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { CallerKeyId, ErrorResponseDto, RequireScope, ApiKeyErrorResponses, ApiNotFoundError } from '@trailsight/core';
import {
  CreateTuningRequestDto,
  TuningEntryDto,
  TuningHistoryDto,
  TuningIdParamsDto,
  TuningListDto,
  UpdateTuningRequestDto,
} from './dto/tuning.dto.js';
import { TuningService } from './tuning.service.js';

const ENTRY_EXAMPLE = {
  id: '5d41402abc4b2a76',
  scope: { accountId: '123456789012', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
  settings: { sensitivity: 3, minVolume: 20 },
  note: 'nightly batch fleet',
  updatedAt: '2025-03-04T10:30:12.004Z',
  updatedBy: '3f9c1a7b2e4d',
};

class TuningHistoryQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 1000' })
  @Min(1, { message: 'limit must be a whole number from 1 to 1000' })
  @Max(1000, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: number;
}

/**
 * `/v1/tuning`: per-scope detector overrides at runtime (read lists, admin writes). The evaluator
 * applies a change from its next run; DETECTOR_OVERRIDES lies beneath, as the boot-time layer.
 */
@ApiTags('tuning')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@Controller('v1/tuning')
export class TuningController {
  constructor(private readonly tuning: TuningService) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Runtime overrides, and the DETECTOR_OVERRIDES beneath them' })
  @ApiOkResponse({
    type: TuningListDto,
    example: {
      items: [ENTRY_EXAMPLE],
      boot: [{ scope: { eventSource: 's3.amazonaws.com' }, settings: { drops: false } }],
    },
  })
  list(): Promise<TuningListDto> {
    return this.tuning.list();
  }

  @Get('history')
  @RequireScope('read')
  @ApiOperation({ summary: 'Every change, newest first: who (key id), when, the override before and after' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiOkResponse({
    type: TuningHistoryDto,
    example: {
      items: [
        {
          action: 'update',
          id: ENTRY_EXAMPLE.id,
          keyId: '3f9c1a7b2e4d',
          at: '2025-03-04T10:30:12.004Z',
          before: { ...ENTRY_EXAMPLE, settings: { sensitivity: 4 }, updatedAt: '2025-03-01T08:00:00.000Z' },
          after: ENTRY_EXAMPLE,
        },
      ],
    },
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  async history(@Query() query: TuningHistoryQueryDto): Promise<TuningHistoryDto> {
    return { items: await this.tuning.history(query.limit ?? 100) };
  }

  @Get(':id')
  @RequireScope('read')
  @ApiOperation({ summary: 'One runtime override' })
  @ApiOkResponse({ type: TuningEntryDto, example: ENTRY_EXAMPLE })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Tuning override tun-2Kq7 not found')
  get(@Param() params: TuningIdParamsDto): Promise<TuningEntryDto> {
    return this.tuning.get(params.id);
  }

  @Post()
  @RequireScope('admin')
  @ApiOperation({
    summary: 'Override settings for a scope (admin)',
    description:
      'One override per scope (its id derives from the scope). Where several cover a series, the most ' +
      'specific wins each setting: eventName over eventSource over region over accountId; DETECTOR_OVERRIDES ' +
      'lies beneath a runtime override of the same scope. Applied from the evaluator\u2019s next run.',
  })
  @ApiCreatedResponse({ type: TuningEntryDto, example: ENTRY_EXAMPLE })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'A scope field or setting is invalid; named' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'The scope has an override: PUT it' })
  create(@Body() body: CreateTuningRequestDto, @CallerKeyId() keyId: string): Promise<TuningEntryDto> {
    return this.tuning.create(body, keyId);
  }

  @Put(':id')
  @RequireScope('admin')
  @ApiOperation({ summary: 'Replace the settings (and note) of an override (admin)' })
  @ApiOkResponse({ type: TuningEntryDto, example: ENTRY_EXAMPLE })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'A setting is invalid; named' })
  @ApiNotFoundError('Tuning override tun-2Kq7 not found')
  update(
    @Param() params: TuningIdParamsDto,
    @Body() body: UpdateTuningRequestDto,
    @CallerKeyId() keyId: string,
  ): Promise<TuningEntryDto> {
    return this.tuning.update(params.id, body, keyId);
  }

  @Delete(':id')
  @RequireScope('admin')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Remove an override (admin): wider scopes and DETECTOR_OVERRIDES apply again' })
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Tuning override tun-2Kq7 not found')
  async delete(@Param() params: TuningIdParamsDto, @CallerKeyId() keyId: string): Promise<void> {
    await this.tuning.delete(params.id, keyId);
  }
}
