import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';

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
