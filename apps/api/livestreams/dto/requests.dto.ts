// Small bodies and the path and query parameters of the livestream routes.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsId, IsZonedTime } from '../../common/validation';
import { IsRtmpUrls, LAYOUT_KINDS, RTMP_PROPERTY } from './start-livestream.dto';

export class LivestreamParams {
  @ApiProperty({ name: 'id', pattern: '^[A-Za-z0-9_-]{1,64}$' })
  @IsId()
  id!: string;
}

export class HostParams extends LivestreamParams {
  @ApiProperty({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
  @IsId()
  hostId!: string;
}

export class SwitchDto {
  @ApiProperty()
  @IsBoolean()
  on!: boolean;
}

export class LayoutDto {
  @ApiProperty({ enum: LAYOUT_KINDS })
  @IsIn(LAYOUT_KINDS)
  layout!: (typeof LAYOUT_KINDS)[number];

  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'required for spotlight; a present host' })
  @IsOptional()
  @IsId()
  spotlightHostId?: string;
}

export class OutputsDto {
  @ApiProperty(RTMP_PROPERTY)
  @IsRtmpUrls()
  rtmp!: string[];
}

export class StopQuery {
  @ApiPropertyOptional({ maxLength: 200, description: 'why the livestream stops (kept in its status)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  reason?: string;
}

export const RECORDING_PATTERN = /^(composite|host-[A-Za-z0-9_-]{1,64})$/;

export class SnippetsQuery {
  @ApiPropertyOptional({ pattern: RECORDING_PATTERN.source, description: '`composite` or `host-{hostId}`; all recordings when absent' })
  @IsOptional()
  @IsString()
  @Matches(RECORDING_PATTERN, { message: '$property must be composite or host-{hostId} with hostId matching [A-Za-z0-9_-]{1,64}' })
  recording?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'ISO 8601 with a zone; snippets ending after it' })
  @IsOptional()
  @IsZonedTime()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'ISO 8601 with a zone; snippets starting before it' })
  @IsOptional()
  @IsZonedTime()
  to?: string;
}
