import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

// scope and settings are checked by the domain's tuningScopeProblems / tuningSettingsProblems
// (the one check DETECTOR_OVERRIDES also goes through), so they are only required to be objects here.

const TUNING_NOTE_MAX_LENGTH = 1_000;

export class TuningScopeDto {
  @ApiPropertyOptional({ description: '12-digit AWS account id', example: '123456789012' })
  accountId?: string;

  @ApiPropertyOptional({ example: 'us-east-1' })
  region?: string;

  @ApiPropertyOptional({ description: 'The service', example: 'ec2.amazonaws.com' })
  eventSource?: string;

  @ApiPropertyOptional({ description: 'The API (needs eventSource)', example: 'RunInstances' })
  eventName?: string;
}

export class TuningSettingsDto {
  @ApiPropertyOptional({ description: '1 (fewest insights) to 10 (most)', minimum: 1, maximum: 10, example: 3 })
  sensitivity?: number;

  @ApiPropertyOptional({ description: 'Smallest events per minute an insight can be about', minimum: 0, example: 20 })
  minVolume?: number;

  @ApiPropertyOptional({ description: 'Normal minutes in a row that end an insight', minimum: 1, maximum: 1440 })
  endAfterNormalMinutes?: number;

  @ApiPropertyOptional({ description: 'Whether drops (a busy API going quiet) are insights', example: false })
  drops?: boolean;
}

/** Body of POST /v1/tuning. */
export class CreateTuningRequestDto {
  @ApiProperty({
    type: TuningScopeDto,
    description: 'Where it applies: every field given must match; none given is everywhere',
    example: { accountId: '123456789012', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
  })
  @IsObject({ message: 'scope must be an object' })
  scope!: Record<string, unknown>;

  @ApiProperty({ type: TuningSettingsDto, example: { sensitivity: 3, minVolume: 20 } })
  @IsObject({ message: 'settings must be an object' })
  settings!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Why', maxLength: TUNING_NOTE_MAX_LENGTH, example: 'nightly batch fleet' })
  @IsOptional()
  @IsString({ message: 'note must be a string' })
  @MaxLength(TUNING_NOTE_MAX_LENGTH, { message: `note must be at most ${TUNING_NOTE_MAX_LENGTH} characters` })
  note?: string;
}

/** Body of PUT /v1/tuning/{id}: new settings for the entry's scope (replaced whole). */
export class UpdateTuningRequestDto {
  @ApiProperty({ type: TuningSettingsDto, example: { sensitivity: 2 } })
  @IsObject({ message: 'settings must be an object' })
  settings!: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: TUNING_NOTE_MAX_LENGTH, example: 'still too noisy' })
  @IsOptional()
  @IsString({ message: 'note must be a string' })
  @MaxLength(TUNING_NOTE_MAX_LENGTH, { message: `note must be at most ${TUNING_NOTE_MAX_LENGTH} characters` })
  note?: string;
}

export class TuningIdParamsDto {
  @Matches(/^[0-9a-f]{16}$/, { message: 'id must be a tuning override id (16 hex digits)' })
  id!: string;
}

export class TuningEntryDto {
  @ApiProperty({ description: 'Derived from the scope', example: '5d41402abc4b2a76' })
  id!: string;

  @ApiProperty({ type: TuningScopeDto })
  scope!: TuningScopeDto;

  @ApiProperty({ type: TuningSettingsDto })
  settings!: TuningSettingsDto;

  @ApiPropertyOptional({ example: 'nightly batch fleet' })
  note?: string;

  @ApiProperty({ example: '2025-03-04T10:30:12.004Z' })
  updatedAt!: string;

  @ApiProperty({ description: 'API key id of the last change', example: '3f9c1a7b2e4d' })
  updatedBy!: string;
}

export class BootOverrideDto {
  @ApiProperty({ type: TuningScopeDto })
  scope!: TuningScopeDto;

  @ApiProperty({ type: TuningSettingsDto })
  settings!: TuningSettingsDto;
}

export class TuningListDto {
  @ApiProperty({ type: [TuningEntryDto], description: 'Runtime overrides (/v1/tuning)' })
  items!: TuningEntryDto[];

  @ApiProperty({
    type: [BootOverrideDto],
    description: 'DETECTOR_OVERRIDES of this process: beneath runtime overrides of the same scope',
  })
  boot!: BootOverrideDto[];
}

export class TuningChangeDto {
  @ApiProperty({ enum: ['create', 'update', 'delete'], example: 'update' })
  action!: string;

  @ApiProperty({ example: '5d41402abc4b2a76' })
  id!: string;

  @ApiProperty({ description: 'API key id of the caller', example: '3f9c1a7b2e4d' })
  keyId!: string;

  @ApiProperty({ example: '2025-03-04T10:30:12.004Z' })
  at!: string;

  @ApiProperty({ type: TuningEntryDto, nullable: true, description: 'null on create' })
  before!: TuningEntryDto | null;

  @ApiProperty({ type: TuningEntryDto, nullable: true, description: 'null on delete' })
  after!: TuningEntryDto | null;
}

export class TuningHistoryDto {
  @ApiProperty({ type: [TuningChangeDto], description: 'Newest first (the last 1,000 changes are kept)' })
  items!: TuningChangeDto[];
}
