import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto, RequireScope } from '@trailsight/core';
import { SeriesDto, SeriesQueryDto } from './dto/series.dto.js';
import { SeriesApiService } from './series-api.service.js';

/** `GET /v1/series`: any tracked series' history. Read scope. */
@ApiTags('apis')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiUnauthorizedResponse({ type: ErrorResponseDto })
@ApiForbiddenResponse({ type: ErrorResponseDto })
@ApiTooManyRequestsResponse({ type: ErrorResponseDto })
@RequireScope('read')
@Controller('v1/series')
export class SeriesController {
  constructor(private readonly series: SeriesApiService) {}

  @Get()
  @ApiOperation({
    summary: "A series' events per minute, 5 minutes or hour, with its expected range and baseline",
    description:
      'Dense over [since, until) (zero-filled), oldest first; the range may span at most 10,080 periods (a week of minutes). ' +
      'period 60 is kept 15 days, 300 for 63 days and 3600 for 90 days (as AWS ListInsightsMetricData). ' +
      "For period 300 and 3600 the model figures are the detector's per-minute figures scaled to the bucket " +
      '(times 5 or 60); they are absent where no model was stored. errorCode is required for ' +
      'ApiErrorRateInsight and refused for ApiCallRateInsight.',
  })
  @ApiOkResponse({ type: SeriesDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  read(@Query() query: SeriesQueryDto): Promise<SeriesDto> {
    return this.series.read(query);
  }
}
