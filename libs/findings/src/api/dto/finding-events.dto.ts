import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

const LIMIT_MESSAGE = 'limit must be a whole number from 1 to 50';

/** Query of GET /v1/findings/{id}/events. */
export class FindingEventsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 50, description: 'Most events returned, oldest first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(50, { message: LIMIT_MESSAGE })
  limit?: number;
}

/** One example call behind a finding, as CloudTrail recorded it (the fields the console shows). */
export class FindingEventDto {
  @ApiProperty({ example: '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d' })
  eventId!: string;

  @ApiProperty({ example: '2025-03-04T10:15:07.000Z' })
  eventTime!: string;

  @ApiProperty({ example: 'ec2.amazonaws.com' })
  eventSource!: string;

  @ApiProperty({ example: 'RunInstances' })
  eventName!: string;

  @ApiProperty({ example: 'us-east-1' })
  awsRegion!: string;

  @ApiProperty({ example: '123456789012' })
  recipientAccountId!: string;

  @ApiProperty({
    description: 'userIdentity.arn, or the stable key Trailsight attributes identities without one to',
    example: 'arn:aws:sts::123456789012:assumed-role/deployer/session',
  })
  userIdentityArn!: string;

  @ApiProperty({ example: '203.0.113.7' })
  sourceIPAddress!: string;

  @ApiProperty({ example: 'aws-cli/2.15.0 Python/3.11' })
  userAgent!: string;

  @ApiPropertyOptional({ example: 'Client.UnauthorizedOperation' })
  errorCode?: string;

  @ApiPropertyOptional({ example: 'You are not authorized to perform this operation.' })
  errorMessage?: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'As recorded; null when absent or longer than 4 KB as JSON',
    example: { instanceType: 't3.micro', minCount: 1, maxCount: 1 },
  })
  requestParameters!: Record<string, unknown> | null;
}

export class FindingEventsDto {
  @ApiProperty({ example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  findingId!: string;

  @ApiProperty({
    type: [FindingEventDto],
    description:
      'Example calls of the insight\u2019s first minutes, oldest first (an error-rate insight: only events with its errorCode)',
  })
  items!: FindingEventDto[];
}
