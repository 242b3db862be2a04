// Body of POST /v1/livestreams.
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsUrl, ValidateNested } from 'class-validator';
import { IsId } from '../../common/validation';
import { HostSpecDto } from './host-spec.dto';

export const LAYOUT_KINDS = ['grid', 'active-speaker', 'spotlight'] as const;
/** More hosts than this do not fit a 640x360 canvas usefully, and bound the request. */
export const MAX_HOSTS = 32;

export const RTMP_PROPERTY: ApiPropertyOptions = {
  type: [String],
  maxItems: 5,
  example: ['rtmp://live.example.com/app/streamkey'],
  description: 'RTMP destinations of the composite, `rtmp[s]://host[:port]/app/streamkey`; stream keys are never shown back (status redacts them)',
};

/** A list of at most 5 rtmp:// or rtmps:// URLs (the app/key shape is checked by the service). */
export const IsRtmpUrls = () =>
  applyDecorators(
    IsArray(),
    ArrayMaxSize(5),
    IsUrl({ protocols: ['rtmp', 'rtmps'], require_protocol: true, require_tld: false }, { each: true, message: 'each value in $property must be an rtmp:// or rtmps:// URL' }),
  );

export class CompositeOptionsDto {
  @ApiPropertyOptional({ enum: LAYOUT_KINDS, default: 'grid' })
  @IsOptional()
  @IsIn(LAYOUT_KINDS)
  layout?: (typeof LAYOUT_KINDS)[number];

  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'spotlight (required) and active-speaker (optional pin): one of the hosts' })
  @IsOptional()
  @IsId()
  spotlightHostId?: string;

  @ApiPropertyOptional(RTMP_PROPERTY)
  @IsOptional()
  @IsRtmpUrls()
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
