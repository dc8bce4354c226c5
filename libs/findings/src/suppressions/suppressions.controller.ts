import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { CallerKeyId, ErrorResponseDto, RequireScope, ApiKeyErrorResponses, ApiNotFoundError } from '@trailsight/core';
import {
  SuppressionDto,
  SuppressionListDto,
  SuppressionPreviewDto,
  SuppressionPreviewRequestDto,
  SuppressionRequestDto,
} from './dto/suppression.dto.js';
import { SuppressionsService } from './suppressions.service.js';

const id = () => Param('id', new ParseUUIDPipe({ version: '4' }));

/** Suppression rules: mute known, expected insights. Read scope lists; admin writes. */
@ApiTags('suppressions')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('admin')
@Controller('v1/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a suppression rule (admin)',
    description:
      'New findings it matches are stored with `suppressedBy: [ruleId]`, hidden from lists unless ' +
      '`suppressed=include|only`, and delivered to no subscriber. Findings stored before it are not changed.',
  })
  @ApiCreatedResponse({ type: SuppressionDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'An invalid field; the message names it (`match.eventName`…)',
  })
  create(@Body() body: SuppressionRequestDto, @CallerKeyId() keyId: string): Promise<SuppressionDto> {
    return this.suppressions.createRule(body, keyId);
  }

  @Post('preview')
  @HttpCode(200)
  @RequireScope('read')
  @ApiOperation({
    summary: 'Which stored findings a draft rule would match',
    description: 'Findings that started in the last `days` (default 30), suppressed ones included. Nothing is saved.',
  })
  @ApiOkResponse({ type: SuppressionPreviewDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'An invalid field; the message names it' })
  preview(@Body() body: SuppressionPreviewRequestDto): Promise<SuppressionPreviewDto> {
    return this.suppressions.preview(body);
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'List suppression rules, oldest first (expired ones included)' })
  @ApiOkResponse({ type: SuppressionListDto })
  async list(): Promise<SuppressionListDto> {
    return { items: await this.suppressions.listRules() };
  }

  @Get(':id')
  @RequireScope('read')
  @ApiOperation({ summary: 'One suppression rule' })
  @ApiOkResponse({ type: SuppressionDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Suppression sup-4Fd8xPz1 not found')
  get(@id() ruleId: string): Promise<SuppressionDto> {
    return this.suppressions.getRule(ruleId);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace a rule\u2019s match, reason and expiry (admin); applies to new findings only' })
  @ApiOkResponse({ type: SuppressionDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Suppression sup-4Fd8xPz1 not found')
  replace(
    @id() ruleId: string,
    @Body() body: SuppressionRequestDto,
    @CallerKeyId() keyId: string,
  ): Promise<SuppressionDto> {
    return this.suppressions.replaceRule(ruleId, body, keyId);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a rule (admin)',
    description: 'Findings it already muted stay muted: their suppressedBy still names it.',
  })
  @ApiNoContentResponse()
  @ApiNotFoundError('Suppression sup-4Fd8xPz1 not found')
  async delete(@id() ruleId: string): Promise<void> {
    await this.suppressions.deleteRule(ruleId);
  }
}
