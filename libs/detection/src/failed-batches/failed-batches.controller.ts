import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponseDto, RequireScope, ApiKeyErrorResponses } from '@trailsight/core';
import {
  DiscardFailedBatchesDto,
  FailedBatchListDto,
  FailedBatchResultsDto,
  RetryFailedBatchesDto,
} from './dto/failed-batches.dto.js';
import { FailedBatchesService } from './failed-batches.service.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** `/v1/ingest/failed`: event batches that failed every attempt, and the operator's retry. Admin scope. */
@ApiTags('operations')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiKeyErrorResponses()
@RequireScope('admin')
@Controller('v1/ingest/failed')
export class FailedBatchesController {
  constructor(private readonly failed: FailedBatchesService) {}

  @Get()
  @ApiOperation({ summary: 'Event batches that failed every attempt (not counted; their account-regions wait)' })
  @ApiOkResponse({ type: FailedBatchListDto })
  async list(): Promise<FailedBatchListDto> {
    const { batches, totals } = await this.failed.list();
    return {
      items: batches.map((b) => ({
        ...b,
        firstMinute: iso(b.firstMinute),
        lastMinute: iso(b.lastMinute),
        failedAt: iso(b.failedAt),
      })),
      totals,
    };
  }

  @Post('retry')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Re-queue failed event batches with all their attempts (counting is exactly once: no double count)',
  })
  @ApiOkResponse({ type: FailedBatchResultsDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  async retry(@Body() body: RetryFailedBatchesDto = {}): Promise<FailedBatchResultsDto> {
    return { items: await this.failed.retry(body.ids) };
  }

  @Post('discard')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Give up failed event batches: never counted; their account-regions are evaluated on' })
  @ApiOkResponse({ type: FailedBatchResultsDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  async discard(@Body() body: DiscardFailedBatchesDto): Promise<FailedBatchResultsDto> {
    return { items: await this.failed.discard(body.ids) };
  }
}
