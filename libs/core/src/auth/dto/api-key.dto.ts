import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';

export class CreateApiKeyDto {
  @ApiProperty({ enum: ['read', 'admin'], example: 'read' })
  @IsIn(['read', 'admin'])
  scope!: 'read' | 'admin';

  @ApiPropertyOptional({
    enum: ['api', 'aws'],
    default: 'api',
    description:
      '`api`: a bearer key for /v1. `aws`: an access key id and secret access key for AWS Signature Version 4 on /aws (the CloudTrail API for Insights); needs SECRETS_KEY',
  })
  @IsOptional()
  @IsIn(['api', 'aws'])
  kind?: 'api' | 'aws';

  @ApiPropertyOptional({
    description: 'aws keys only: the one account (12 digits) whose Insights the key reads; every account when absent',
    example: '123456789012',
  })
  @IsOptional()
  @Matches(/^\d{12}$/, { message: 'accountId must be 12 digits' })
  accountId?: string;
}

export class CreatedApiKeyDto {
  @ApiProperty({ description: 'Public id of the key (a prefix of its sha256)', example: '74687654b719' })
  id!: string;

  @ApiProperty({ enum: ['read', 'admin'], example: 'read' })
  scope!: string;

  @ApiProperty({ enum: ['api', 'aws'], example: 'api' })
  kind!: string;

  @ApiPropertyOptional({
    description: 'api keys: the key itself, shown only in this response',
    example: 'tsk_Ouu-7TNHVhwtKpoljZIfji42AC-NI8haQybr6cH8vAg',
  })
  key?: string;

  @ApiPropertyOptional({ description: 'aws keys: the access key id (20 characters)', example: 'TSAKJ3WQ7ZL2M4N5P6QR' })
  accessKeyId?: string;

  @ApiPropertyOptional({
    description: 'aws keys: the secret access key (40 characters), shown only in this response',
    example: 'q8V0mZ3c1yH2bK7nW4xT9pR6sL5dF0gA1jE8uC2o',
  })
  secretAccessKey?: string;

  @ApiPropertyOptional({ description: 'aws keys: the account the key is bound to', example: '123456789012' })
  accountId?: string;
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

  @ApiProperty({ enum: ['api', 'aws'], example: 'api' })
  kind!: string;

  @ApiPropertyOptional({ description: 'aws keys: the access key id', example: 'TSAKJ3WQ7ZL2M4N5P6QR' })
  accessKeyId?: string;

  @ApiPropertyOptional({ description: 'aws keys: the account the key is bound to', example: '123456789012' })
  accountId?: string;

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
