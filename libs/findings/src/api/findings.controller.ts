import { Body, Controller, Get, Param, Patch, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { CallerKeyId, ErrorResponseDto, RequireScope, ApiKeyErrorResponses, ApiNotFoundError } from '@trailsight/core';
import { FindingEventsDto, FindingEventsQueryDto } from './dto/finding-events.dto.js';
import { FindingDto, FindingPageDto, FindingSeriesDto } from './dto/finding.response.dto.js';
import { InsightRecordDto, RECORDS_EXAMPLE } from './dto/insight-record.dto.js';
import { FindingIdParamsDto, ListFindingsQueryDto } from './dto/list-findings.query.dto.js';
import { TriageFindingRequestDto } from './dto/triage-finding.request.dto.js';
import { FindingsApiService } from './findings-api.service.js';

/** Express's response and Fastify's reply both set a header with header(). */
interface JsonResponse {
  header(name: string, value: string): unknown;
}

const FINDING_EXAMPLE = {
  id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  state: 'closed',
  triage: 'acknowledged',
  insightType: 'ApiCallRateInsight',
  accountId: '123456789012',
  region: 'us-east-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  direction: 'spike',
  startTime: '2025-03-04T10:15:00Z',
  endTime: '2025-03-04T10:21:00Z',
  durationMinutes: 6,
  baselineAverage: 0.0421,
  baselineDurationMinutes: 10080,
  insightAverage: 24.5,
  peakScore: 41.7,
  expected: { expected: 0.05, lower: 0, upper: 3.2 },
  newActors: {
    userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'],
    userAgent: ['python-requests/2.31'],
    onAccountRegion: { userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'], userAgent: [] },
  },
  updatedAt: '2025-03-04T10:30:12.004Z',
};

const HISTORY_EXAMPLE = [
  {
    from: 'new',
    to: 'acknowledged',
    note: 'Release 4.2 rollout: expected RunInstances burst',
    keyId: '3f9c1a7b2e4d',
    at: '2025-03-04T10:30:12.004Z',
  },
];

/** Findings: CloudTrail Insights anomalies, each a Start/End record pair. Read scope. */
@ApiTags('findings')
@ApiBearerAuth('api-key')
@ApiSecurity('x-api-key')
@ApiExtraModels(InsightRecordDto)
@ApiKeyErrorResponses()
@RequireScope('read')
@Controller('v1/findings')
export class FindingsController {
  constructor(private readonly findings: FindingsApiService) {}

  @Get()
  @ApiOperation({
    summary: 'List findings, newest first',
    description:
      'Every filter is optional and they combine with AND. Pages are stable: a cursor is an exact position, ' +
      'so findings that start while you page land before it and are neither repeated nor skipped.',
  })
  @ApiOkResponse({
    type: FindingPageDto,
    example: { items: [FINDING_EXAMPLE], nextCursor: 'MDAxNzQxMDgzMzAwMDAwOjlhOGI3YzZk' },
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'A parameter is invalid; the message names it' })
  async list(
    @Query() query: ListFindingsQueryDto,
    @Res({ passthrough: true }) response: JsonResponse,
  ): Promise<string> {
    const page = await this.findings.list(query);
    response.header('Content-Type', 'application/json; charset=utf-8');
    response.header('ETag', page.etag);
    return page.body;
  }

  @Get(':id')
  @ApiOperation({ summary: 'One finding' })
  @ApiParam({ name: 'id', description: 'The finding\u2019s sharedEventID', example: FINDING_EXAMPLE.id })
  @ApiOkResponse({ type: FindingDto, example: { ...FINDING_EXAMPLE, history: HISTORY_EXAMPLE } })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Finding 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d not found')
  get(@Param() params: FindingIdParamsDto): Promise<FindingDto> {
    return this.findings.get(params.id);
  }

  @Patch(':id')
  @RequireScope('admin')
  @ApiOperation({
    summary: 'Triage a finding: acknowledge, resolve or reopen it, with a note (admin)',
    description:
      'Triage is an operator\u2019s state, apart from the insight\u2019s own open/closed. Every change is ' +
      'appended to the finding\u2019s `history` with the caller\u2019s key id and the time. A finding ' +
      'acknowledged or resolved before its insight ends gets no `insight.end` delivery.',
  })
  @ApiParam({ name: 'id', description: 'The finding\u2019s sharedEventID', example: FINDING_EXAMPLE.id })
  @ApiOkResponse({ type: FindingDto, example: { ...FINDING_EXAMPLE, history: HISTORY_EXAMPLE } })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'triage or note is invalid; the message names it' })
  @ApiNotFoundError('Finding 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d not found')
  triage(
    @Param() params: FindingIdParamsDto,
    @Body() body: TriageFindingRequestDto,
    @CallerKeyId() keyId: string,
  ): Promise<FindingDto> {
    return this.findings.triage(params.id, body, keyId);
  }

  @Get(':id/records')
  @ApiOperation({
    summary: 'The finding\u2019s CloudTrail Insights records in AWS layout',
    description: 'The Start record, and the End record once the finding is closed (same sharedEventID).',
  })
  @ApiParam({ name: 'id', description: 'The finding\u2019s sharedEventID', example: FINDING_EXAMPLE.id })
  @ApiOkResponse({
    schema: { type: 'array', items: { $ref: getSchemaPath(InsightRecordDto) } },
    example: RECORDS_EXAMPLE,
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Finding 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d not found')
  records(@Param() params: FindingIdParamsDto): Promise<InsightRecordDto[]> {
    return this.findings.records(params.id);
  }

  @Get(':id/series')
  @ApiOperation({ summary: 'Per-minute values, expected range and baseline around the finding' })
  @ApiParam({ name: 'id', description: 'The finding\u2019s sharedEventID', example: FINDING_EXAMPLE.id })
  @ApiOkResponse({ type: FindingSeriesDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Finding 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d not found')
  series(@Param() params: FindingIdParamsDto): Promise<FindingSeriesDto> {
    return this.findings.series(params.id);
  }

  @Get(':id/events')
  @ApiOperation({
    summary: 'Example calls behind the finding',
    description:
      'Up to 50 events of the insight’s first minutes (at most 5 per minute), kept with the finding as long ' +
      'as it is. For an error-rate insight, only events with its errorCode. Empty when the insight started ' +
      'more than EVENT_SAMPLES_MINUTES after its events were counted (e.g. found in back-filled history).',
  })
  @ApiParam({ name: 'id', description: 'The finding’s sharedEventID', example: FINDING_EXAMPLE.id })
  @ApiOkResponse({ type: FindingEventsDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundError('Finding 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d not found')
  events(@Param() params: FindingIdParamsDto, @Query() query: FindingEventsQueryDto): Promise<FindingEventsDto> {
    return this.findings.events(params.id, query.limit ?? 50);
  }
}
