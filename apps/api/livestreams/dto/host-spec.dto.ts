// HostSpec as the contract states it: a host's id, name, initial camera/microphone state and the
// RTP codecs and payload types the SFU will send (defaults VP8/96 and OPUS/111).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { IsId } from '../../common/validation';

export class VideoSpecDto {
  @ApiProperty({ enum: ['VP8', 'H264'] })
  @IsIn(['VP8', 'H264'])
  codec!: 'VP8' | 'H264';

  @ApiProperty({ minimum: 0, maximum: 127, example: 96, description: '72..76 are refused (they collide with RTCP)' })
  @IsInt()
  @Min(0)
  @Max(127)
  payloadType!: number;
}

export class AudioSpecDto {
  @ApiProperty({ enum: ['OPUS'] })
  @IsIn(['OPUS'])
  codec!: 'OPUS';

  @ApiProperty({ minimum: 0, maximum: 127, example: 111 })
  @IsInt()
  @Min(0)
  @Max(127)
  payloadType!: number;
}

export class HostSpecDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9_-]{1,64}$', example: 'host-1' })
  @IsId()
  hostId!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 128, example: 'Ada' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  displayName?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  camera?: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  microphone?: boolean;

  @ApiPropertyOptional({ type: VideoSpecDto, description: 'default VP8/96' })
  @IsOptional()
  @ValidateNested()
  @Type(() => VideoSpecDto)
  video?: VideoSpecDto;

  @ApiPropertyOptional({ type: AudioSpecDto, description: 'default OPUS/111' })
  @IsOptional()
  @ValidateNested()
  @Type(() => AudioSpecDto)
  audio?: AudioSpecDto;
}
