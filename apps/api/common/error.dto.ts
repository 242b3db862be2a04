// OpenAPI description of the one error body every endpoint returns.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ErrorDetailDto {
  @ApiProperty({ example: 'invalid_request', description: 'stable machine-readable code' })
  code!: string;
  @ApiProperty({ example: 'hostId: hostId must match [A-Za-z0-9_-]{1,64}' })
  message!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'for invalid requests `fields: [{field, in, problem}]`; otherwise ids and reasons',
  })
  details?: Record<string, unknown>;
}

export class ErrorDto {
  @ApiProperty({ type: ErrorDetailDto })
  error!: ErrorDetailDto;
}
