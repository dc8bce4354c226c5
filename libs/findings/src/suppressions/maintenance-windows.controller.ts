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
import { MaintenanceWindowDto, MaintenanceWindowListDto, MaintenanceWindowRequestDto } from './dto/suppression.dto.js';
import { SuppressionsService } from './suppressions.service.js';

const id = () => Param('id', new ParseUUIDPipe({ version: '4' }));

const ONE_OFF = {
  match: { accountId: '123456789012', region: 'us-east-1' },
  reason: 'database migration',
  from: '2026-03-07T01:00:00Z',
  to: '2026-03-07T03:00:00Z',
};

/** Maintenance windows: planned periods in which matching findings do not page. */
@ApiTags('maintenance-windows')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('admin')
@Controller('v1/maintenance-windows')
export class MaintenanceWindowsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a maintenance window (admin)',
    description:
      'One-off (`from`, `to`) or recurring (`rrule` or `cron`, with `durationMinutes` and an IANA `timeZone`). ' +
      'Findings matching `match` that start while it is open are stored with `suppressedBy: [windowId]` and not delivered.',
  })
  @ApiCreatedResponse({
    type: MaintenanceWindowDto,
    example: { id: '7d2e9a4c-1b3f-4e5d-8c6a-0f9b2d4e6a8c', ...ONE_OFF },
  })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'An invalid field; the message names it (`rrule`, `cron`, `timeZone`, `match.region`…)',
  })
  create(@Body() body: MaintenanceWindowRequestDto, @CallerKeyId() keyId: string): Promise<MaintenanceWindowDto> {
    return this.suppressions.createWindow(body, keyId);
  }

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'List maintenance windows, oldest first, with whether each is open now' })
  @ApiOkResponse({ type: MaintenanceWindowListDto })
  async list(): Promise<MaintenanceWindowListDto> {
    return { items: await this.suppressions.listWindows() };
  }

  @Get(':id')
  @RequireScope('read')
  @ApiOkResponse({ type: MaintenanceWindowDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Maintenance window mw-7Hc2kLq9 not found')
  get(@id() windowId: string): Promise<MaintenanceWindowDto> {
    return this.suppressions.getWindow(windowId);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace a window (admin); applies to new findings only' })
  @ApiOkResponse({ type: MaintenanceWindowDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Maintenance window mw-7Hc2kLq9 not found')
  replace(
    @id() windowId: string,
    @Body() body: MaintenanceWindowRequestDto,
    @CallerKeyId() keyId: string,
  ): Promise<MaintenanceWindowDto> {
    return this.suppressions.replaceWindow(windowId, body, keyId);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a window (admin); findings it muted stay muted' })
  @ApiNoContentResponse()
  @ApiNotFoundError('Maintenance window mw-7Hc2kLq9 not found')
  async delete(@id() windowId: string): Promise<void> {
    await this.suppressions.deleteWindow(windowId);
  }
}
