import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The body of every error response (see AllExceptionsFilter), for the OpenAPI document. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['limit must be a whole number from 1 to 500'],
  })
  message!: string | string[];

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiPropertyOptional({ description: '5xx only: quote it when reporting a problem' })
  errorId?: string;
}
