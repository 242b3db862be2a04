// Response bodies of the clip routes, for the OpenAPI document (the service builds plain objects
// of these shapes).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const RECORDING_SCHEMA = {
  oneOf: [
    { type: 'string', enum: ['composite'] },
    { type: 'object', required: ['hostId'], properties: { hostId: { type: 'string' } } },
  ],
};

export class ClipAcceptedDto {
  @ApiProperty({ example: 'clip-3f1c0a9e5b7d2c4e6a8b0c1d' }) clipId!: string;
  @ApiProperty({ example: 'clip/clip-3f1c0a9e5b7d2c4e6a8b0c1d' }) workflowId!: string;
  @ApiProperty({ enum: ['waiting', 'merging', 'ready', 'failed'] }) status!: string;
  @ApiProperty({ description: 'false when this exact request was made before (same clip)' }) created!: boolean;
}

export class ClipSnippetDto {
  @ApiProperty() uri!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty({ format: 'date-time' }) startTime!: string;
  @ApiProperty({ format: 'date-time' }) endTime!: string;
  @ApiProperty({ enum: ['video/mp4', 'audio/mpeg'] }) contentType!: string;
  @ApiProperty() sizeBytes!: number;
}

export class ClipGapDto {
  @ApiProperty({ format: 'date-time' }) start!: string;
  @ApiProperty({ format: 'date-time' }) end!: string;
  @ApiProperty({ enum: ['camera-off', 'no-media'], description: 'camera-off: the host sent audio only; no-media: nothing was recorded' }) kind!: string;
  @ApiProperty({ description: 'in the clip as audio with a placeholder picture' }) included!: boolean;
}

export class ClipErrorDto {
  @ApiProperty({ enum: ['no_snippets_in_range', 'recording_not_found', 'livestream_not_found', 'merge_failed', 'storage_unavailable', 'invalid_request'], description: 'storage_unavailable: asking again starts the clip again' }) code!: string;
  @ApiProperty() message!: string;
}

export class WebhookAttemptDto {
  @ApiProperty() attempt!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional() httpStatus?: number;
  @ApiPropertyOptional() error?: string;
  @ApiProperty() durationMs!: number;
}

export class ClipWebhookDto {
  @ApiProperty() configured!: boolean;
  @ApiProperty() delivered!: boolean;
  @ApiProperty({ type: [WebhookAttemptDto] }) attempts!: WebhookAttemptDto[];
}

export class ClipPubsubDto {
  @ApiProperty() published!: boolean;
  @ApiPropertyOptional() messageId?: string;
  @ApiPropertyOptional() error?: string;
}

export class ClipNotificationsDto {
  @ApiProperty({ type: ClipPubsubDto }) pubsub!: ClipPubsubDto;
  @ApiProperty({ type: ClipWebhookDto }) webhook!: ClipWebhookDto;
}

export class ClipStatusDto {
  @ApiProperty() clipId!: string;
  @ApiProperty() workflowId!: string;
  @ApiProperty({ enum: ['waiting', 'merging', 'ready', 'failed'], description: 'ready: uri, signedUrl, expiresAt and durationMs are set' }) status!: string;
  @ApiProperty() livestreamId!: string;
  @ApiProperty(RECORDING_SCHEMA) recording!: 'composite' | { hostId: string };
  @ApiProperty({ format: 'date-time' }) start!: string;
  @ApiProperty({ format: 'date-time' }) end!: string;
  @ApiProperty() precise!: boolean;
  @ApiProperty() includeAudioOnly!: boolean;
  @ApiPropertyOptional() reason?: string;
  @ApiPropertyOptional() requestedBy?: string;
  @ApiPropertyOptional({ format: 'date-time' }) createdAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) completedAt?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'while waiting for snippets of a range that reached into the future: until when at most' }) waitingUntil?: string;
  @ApiPropertyOptional({ example: 'gs://tapedeck-local/clips/clip-3f1c0a9e5b7d2c4e6a8b0c1d.mp4' }) uri?: string;
  @ApiPropertyOptional({ description: 'V4 signed GET URL of the clip (Range requests work)' }) signedUrl?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
  @ApiPropertyOptional() durationMs?: number;
  @ApiPropertyOptional() sizeBytes?: number;
  @ApiPropertyOptional({ type: [ClipSnippetDto], description: 'the snippets the clip is made from' }) snippets?: ClipSnippetDto[];
  @ApiPropertyOptional({ type: [ClipGapDto] }) gaps?: ClipGapDto[];
  @ApiPropertyOptional({ type: ClipErrorDto }) error?: ClipErrorDto;
  @ApiPropertyOptional({ type: ClipNotificationsDto }) notifications?: ClipNotificationsDto;
}
