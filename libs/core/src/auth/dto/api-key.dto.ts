import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';

export class CreateApiKeyDto {
  @ApiProperty({ enum: ['read', 'admin'], example: 'read' })
  @IsIn(['read', 'admin'])
  scope!: 'read' | 'admin';
}

export class CreatedApiKeyDto {
  @ApiProperty({ description: 'Public id of the key (a prefix of its sha256)', example: '74687654b719' })
  id!: string;

  @ApiProperty({ enum: ['read', 'admin'], example: 'read' })
  scope!: string;

  @ApiProperty({
    description: 'The key itself: shown only in this response',
    example: 'tsk_Ouu-7TNHVhwtKpoljZIfji42AC-NI8haQybr6cH8vAg',
  })
  key!: string;
}

export class ApiKeySelfDto {
  @ApiProperty({ description: 'Public id of the calling key (a prefix of its sha256)', example: '74687654b719' })
  id!: string;

  @ApiProperty({ enum: ['read', 'admin'], example: 'read' })
  scope!: 'read' | 'admin';
}

export class ApiKeyInfoDto {
  @ApiProperty({ description: 'Public id of the key (a prefix of its sha256)', example: '74687654b719' })
  id!: string;

  @ApiProperty({ enum: ['read', 'admin'], example: 'admin' })
  scope!: string;

  @ApiProperty({
    enum: ['redis', 'config'],
    description: '`redis`: created at runtime, revocable here; `config`: from API_KEYS',
    example: 'redis',
  })
  source!: string;

  @ApiPropertyOptional({ description: 'When it was created (keys from Redis)', example: '2026-11-30T09:12:44.120Z' })
  createdAt?: string;

  @ApiPropertyOptional({
    description: 'When a process last saw it used (recorded at most once a minute per process)',
    example: '2026-12-01T17:03:10.004Z',
  })
  lastUsedAt?: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyInfoDto], description: 'Every key, oldest first; never a key or its hash' })
  items!: ApiKeyInfoDto[];
}

export class ApiKeyIdParamDto {
  @ApiProperty({ description: 'The id GET /v1/keys lists', example: '74687654b719' })
  @Matches(/^[0-9a-f]{12}$/, { message: 'id must be the 12 hex digits GET /v1/keys lists' })
  id!: string;
}
