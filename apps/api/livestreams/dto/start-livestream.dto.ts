// Body of POST /v1/livestreams.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsUrl, ValidateNested } from 'class-validator';
import { IsId } from '../../common/validation';
import { HostSpecDto } from './host-spec.dto';

export const LAYOUT_KINDS = ['grid', 'active-speaker', 'spotlight'] as const;
/** More hosts than this do not fit a 640x360 canvas usefully, and bound the request. */
export const MAX_HOSTS = 32;

export class CompositeOptionsDto {
  @ApiPropertyOptional({ enum: LAYOUT_KINDS, default: 'grid' })
  @IsOptional()
  @IsIn(LAYOUT_KINDS)
  layout?: (typeof LAYOUT_KINDS)[number];

  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'spotlight (required) and active-speaker (optional pin): one of the hosts' })
  @IsOptional()
  @IsId()
  spotlightHostId?: string;

  @ApiPropertyOptional({ type: [String], maxItems: 5, example: ['rtmp://live.example.com/app/key'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @IsUrl({ protocols: ['rtmp', 'rtmps'], require_protocol: true, require_tld: false }, { each: true, message: 'each value in $property must be an rtmp:// or rtmps:// URL' })
  rtmp?: string[];

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  hls?: boolean;
}

export class StartLivestreamDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9_-]{1,64}$', example: 'ls-2026-01-31-a' })
  @IsId()
  livestreamId!: string;

  @ApiPropertyOptional({ type: [HostSpecDto], maxItems: MAX_HOSTS })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_HOSTS)
  @ValidateNested({ each: true })
  @Type(() => HostSpecDto)
  hosts?: HostSpecDto[];

  @ApiPropertyOptional({ type: CompositeOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CompositeOptionsDto)
  composite?: CompositeOptionsDto;

  @ApiPropertyOptional({ default: true, description: 'per-host individual recordings' })
  @IsOptional()
  @IsBoolean()
  individual?: boolean;
}
