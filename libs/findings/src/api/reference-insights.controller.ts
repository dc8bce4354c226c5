import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponseDto, RequireScope, ApiKeyErrorResponses } from '@trailsight/core';
import { InvalidCursorError } from '../findings/findings.repository.js';
import { ReferenceInsightsRepository } from '../reference/reference-insights.repository.js';
import { RECORDS_EXAMPLE } from './dto/insight-record.dto.js';
import { ListReferenceInsightsQueryDto, ReferenceInsightPageDto } from './dto/reference-insights.dto.js';

/**
 * AWS's own Insights records, read from `CloudTrail-Insight/` trail files: a reference to hold
 * Trailsight's findings against, never mixed into /v1/findings nor delivered. Read scope.
 */
@ApiTags('reference-insights')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('read')
@Controller('v1/reference-insights')
export class ReferenceInsightsController {
  constructor(private readonly references: ReferenceInsightsRepository) {}

  @Get()
  @ApiOperation({
    summary: 'AWS\u2019s own Insights records read from CloudTrail-Insight files, newest first',
    description:
      'Records CloudTrail delivered under `AWSLogs/<account>/CloudTrail-Insight/` in the trail source ' +
      '(directory, S3 or SQS), validated against AWS\u2019s layout; kept apart from Trailsight\u2019s findings.',
  })
  @ApiOkResponse({ type: ReferenceInsightPageDto, example: { items: RECORDS_EXAMPLE } })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'A parameter is invalid; the message names it' })
  async list(@Query() query: ListReferenceInsightsQueryDto): Promise<ReferenceInsightPageDto> {
    try {
      const page = await this.references.list({
        ...query,
        since: query.since === undefined ? undefined : Date.parse(query.since),
        until: query.until === undefined ? undefined : Date.parse(query.until),
      });
      return page;
    } catch (error) {
      if (error instanceof InvalidCursorError)
        throw new BadRequestException(['cursor is not a nextCursor this API handed out']);
      throw error;
    }
  }
}
