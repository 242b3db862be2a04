// Body of POST /v1/clips and the path of GET /v1/clips/{clipId}.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length, ValidateBy } from 'class-validator';
import { ID_PATTERN, IsId, IsZonedTime } from '../../common/validation';

/** `"composite"` or `{hostId}` (contract); anything else, extra fields included, is refused. */
const IsRecording = () =>
  ValidateBy({
    name: 'isRecording',
    validator: {
      validate: (v: unknown) =>
        v === 'composite' ||
        (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { hostId?: unknown }).hostId === 'string' && ID_PATTERN.test((v as { hostId: string }).hostId)),
      defaultMessage: () => '$property must be "composite" or {hostId} with hostId matching [A-Za-z0-9_-]{1,64} and no other field',
    },
  });

export class RequestClipDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
  @IsId()
  livestreamId!: string;

  @ApiProperty({
    description: 'the composite, or one host\'s individual recording',
    oneOf: [
      { type: 'string', enum: ['composite'] },
      { type: 'object', required: ['hostId'], additionalProperties: false, properties: { hostId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } },
    ],
  })
  @IsRecording()
  recording!: 'composite' | { hostId: string };

  @ApiProperty({ format: 'date-time', description: 'ISO 8601 with a zone' })
  @IsZonedTime()
  start!: string;

  @ApiProperty({ format: 'date-time', description: 'ISO 8601 with a zone; after start, at most TAPEDECK_CLIP_MAX_SECONDS (default 2 h) later. A range reaching into the future waits for its snippets.' })
  @IsZonedTime()
  end!: string;

  @ApiPropertyOptional({ default: false, description: 'start and end exactly at the requested times (the first and last partial GOP are re-encoded); otherwise whole snippets, no re-encoding' })
  @IsOptional()
  @IsBoolean()
  precise?: boolean;

  @ApiPropertyOptional({ default: false, description: "include a host's camera-off stretch as its audio with a placeholder picture (otherwise it is left out and reported as a gap)" })
  @IsOptional()
  @IsBoolean()
  includeAudioOnly?: boolean;

  @ApiPropertyOptional({ maxLength: 500, description: 'why the clip is asked for (kept in its status and message; not part of the clip id)' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'who asked (kept in its status and message; not part of the clip id)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requestedBy?: string;
}

export class ClipParams {
  @ApiProperty({ name: 'clipId', pattern: '^[A-Za-z0-9_-]{1,64}$', example: 'clip-3f1c0a9e5b7d2c4e6a8b0c1d' })
  @IsId()
  clipId!: string;
}
