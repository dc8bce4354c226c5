import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponseDto, RequireScope, ApiKeyErrorResponses } from '@trailsight/core';
import { ListTrackedApisQueryDto, TrackedApisDto } from './dto/tracked-apis.dto.js';
import { TrackedApisService } from './tracked-apis.service.js';

/** `GET /v1/apis`: the series being tracked, with current rate and baseline. Read scope. */
@ApiTags('apis')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('read')
@Controller('v1/apis')
export class TrackedApisController {
  constructor(private readonly apis: TrackedApisService) {}

  @Get()
  @ApiOperation({
    summary: 'Tracked API series with current rate and baseline',
    description:
      'Call-rate series (write calls per minute) and error-rate series (errors per minute, by error code) ' +
      'active in the window: current rate = the last closed minute, baseline = mean over the window before it.',
  })
  @ApiOkResponse({ type: TrackedApisDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  list(@Query() query: ListTrackedApisQueryDto): Promise<TrackedApisDto> {
    return this.apis.list(query);
  }
}
