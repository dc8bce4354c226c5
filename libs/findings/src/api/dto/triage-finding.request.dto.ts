import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { TRIAGE_NOTE_MAX_LENGTH, TRIAGE_STATES, type TriageState } from '../../findings/finding.js';

/** Body of PATCH /v1/findings/{id}. */
export class TriageFindingRequestDto {
  @ApiProperty({ enum: TRIAGE_STATES, example: 'acknowledged' })
  @IsIn(TRIAGE_STATES, { message: `triage must be one of ${TRIAGE_STATES.join(', ')}` })
  triage!: TriageState;

  @ApiPropertyOptional({
    description: `What was found; kept in the finding's history (at most ${TRIAGE_NOTE_MAX_LENGTH} characters)`,
    maxLength: TRIAGE_NOTE_MAX_LENGTH,
    example: 'Release 4.2 rollout: expected RunInstances burst',
  })
  @IsOptional()
  @IsString({ message: 'note must be a string' })
  @MaxLength(TRIAGE_NOTE_MAX_LENGTH, { message: `note must be at most ${TRIAGE_NOTE_MAX_LENGTH} characters` })
  note?: string;
}
