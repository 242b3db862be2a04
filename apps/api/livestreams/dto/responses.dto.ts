// Response bodies of the livestream routes, for the OpenAPI document (the service builds plain
// objects of these shapes).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class MediaEndpointDto {
  @ApiProperty({ example: 40000 }) port!: number;
  @ApiProperty({ example: 96 }) payloadType!: number;
  @ApiProperty({ example: 'VP8' }) codec!: string;
}

export class IngestEndpointsDto {
  @ApiProperty({ example: '127.0.0.1' }) address!: string;
  @ApiProperty({ type: MediaEndpointDto }) video!: MediaEndpointDto;
  @ApiProperty({ type: MediaEndpointDto }) audio!: MediaEndpointDto;
}

export class HostJoinedDto {
  @ApiProperty() hostId!: string;
  @ApiProperty({ type: IngestEndpointsDto, description: 'where the SFU sends this host\'s RTP (RTCP on port+1 or multiplexed)' })
  ingest!: IngestEndpointsDto;
}

export class StartedLivestreamDto {
  @ApiProperty() livestreamId!: string;
  @ApiProperty({ example: 'livestream/ls-2026-01-31-a' }) workflowId!: string;
  @ApiProperty({ type: [HostJoinedDto] }) hosts!: HostJoinedDto[];
}

export class AcceptedDto {
  @ApiProperty() livestreamId!: string;
  @ApiProperty({ example: 'accepted', description: 'the workflow has the change; status shows when it took effect' })
  status!: 'accepted';
}

export class HostStatusDto {
  @ApiProperty() hostId!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ description: 'false once the host left' }) present!: boolean;
  @ApiProperty() camera!: boolean;
  @ApiProperty() microphone!: boolean;
  @ApiProperty({ format: 'date-time' }) joinedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) leftAt?: string;
  @ApiPropertyOptional({ type: IngestEndpointsDto, nullable: true }) ingest!: IngestEndpointsDto | null;
}

export class HostMediaDto {
  @ApiProperty() hostId!: string;
  @ApiProperty({ description: 'RTP packets received (video and audio) since the ingest opened' }) packets!: number;
  @ApiProperty({ description: 'packets lost since the ingest opened' }) lost!: number;
  @ApiProperty({ nullable: true, description: 'loss over the last 30 s, percent of the packets expected' }) lossPercent!: number | null;
  @ApiProperty({ description: 'ms since the last packet of either medium' }) silentMs!: number;
  @ApiProperty({ format: 'date-time', nullable: true }) lastPacketAt!: string | null;
}

export class LatencyDto {
  @ApiProperty({ description: 'snippets measured in total' }) count!: number;
  @ApiProperty({ nullable: true }) p50!: number | null;
  @ApiProperty({ nullable: true }) p95!: number | null;
  @ApiProperty({ nullable: true }) max!: number | null;
}

export class BacklogDto {
  @ApiProperty({ description: 'closed snippets waiting to be shipped' }) count!: number;
  @ApiProperty() bytes!: number;
  @ApiProperty({ nullable: true, description: 'age of the oldest waiting snippet' }) oldestAgeMs!: number | null;
}

export class ShippingLiveDto {
  @ApiProperty({ enum: ['starting', 'running', 'backing-off', 'draining', 'finished', 'stopped'] }) state!: string;
  @ApiProperty({ description: 'snippets this run of the recording shipped' }) shipped!: number;
  @ApiProperty({ type: BacklogDto }) backlog!: BacklogDto;
  @ApiProperty({ type: LatencyDto, description: 'snippet end (capture) to Pub/Sub acknowledgement, ms, recent snippets' }) latencyMs!: LatencyDto;
  @ApiProperty({ format: 'date-time', nullable: true }) heartbeatAt!: string | null;
}

export class RecordingLiveDto {
  @ApiProperty({ format: 'date-time', nullable: true, description: 'when the recording activity last reported' }) heartbeatAt!: string | null;
  @ApiProperty({ description: 'attempt of the recording activity (above 1 after a crash or a worker restart)' }) attempt!: number;
  @ApiPropertyOptional({ description: 'snippets written by the pipeline' }) snippetsWritten?: number;
  @ApiPropertyOptional() fpsOut?: number;
  @ApiPropertyOptional() bitrateKbps?: number;
  @ApiPropertyOptional({ type: [HostMediaDto], description: 'each host\'s RTP as the ingest sees it' }) media?: HostMediaDto[];
  @ApiPropertyOptional({ type: ShippingLiveDto }) shipping?: ShippingLiveDto;
}

export class RecordingStatusDto {
  @ApiProperty({ example: 'composite', description: '`composite` or `host-{hostId}`' }) recordingId!: string;
  @ApiProperty() workflowId!: string;
  @ApiProperty({ enum: ['composite', 'individual'] }) kind!: string;
  @ApiPropertyOptional() hostId?: string;
  @ApiProperty({ enum: ['av', 'audio'] }) variant!: string;
  @ApiProperty({ enum: ['running', 'stopping', 'finished', 'failed'] }) state!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
  @ApiPropertyOptional({ description: 'snippets the recording reported when it finished' }) snippets?: number;
  @ApiPropertyOptional({ type: RecordingLiveDto, description: 'running recordings: what their activities last reported' }) live?: RecordingLiveDto;
}

export class RecordingTotalsDto {
  @ApiProperty({ example: 'composite' }) recordingId!: string;
  @ApiProperty({ description: 'snippets in the bucket' }) snippetsShipped!: number;
  @ApiProperty({ format: 'date-time', nullable: true, description: 'end of the newest snippet in the bucket' }) lastSnippetAt!: string | null;
}

export class LivestreamStatusDto {
  @ApiProperty() livestreamId!: string;
  @ApiProperty() workflowId!: string;
  @ApiProperty({ enum: ['placing', 'recording', 'stopping', 'stopped'] }) phase!: string;
  @ApiProperty({ enum: ['starting', 'ok', 'degraded', 'failing', 'stopping', 'stopped'], description: 'one word for dashboards' }) health!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional() stopReason?: string;
  @ApiProperty({ example: { kind: 'grid' } }) layout!: { kind: string; spotlightHostId?: string };
  @ApiProperty() individual!: boolean;
  @ApiProperty({ type: [HostStatusDto] }) hosts!: HostStatusDto[];
  @ApiProperty({ type: [RecordingStatusDto], description: 'every recording run (composite, and each host period)' }) recordings!: RecordingStatusDto[];
  @ApiProperty({ type: [RecordingTotalsDto], description: 'per recording id, from the bucket' }) shipped!: RecordingTotalsDto[];
  @ApiProperty() snippetsShipped!: number;
  @ApiProperty({ format: 'date-time', nullable: true }) lastSnippetAt!: string | null;
  @ApiProperty({ type: BacklogDto, description: 'snippets closed but not yet shipped, over the running recordings' }) backlog!: BacklogDto;
  @ApiProperty({ type: [String], description: 'problems: current ones (no media, packet loss, shipping retries) first, then notices' }) warnings!: string[];
}

export class SnippetDto {
  @ApiProperty({ example: 'composite' }) recording!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty({ format: 'date-time' }) startTime!: string;
  @ApiProperty({ format: 'date-time' }) endTime!: string;
  @ApiProperty({ example: 'gs://tapedeck-local/livestreams/ls-1/composite/000000_20260131T120000.000Z_20260131T120015.000Z.mp4' }) uri!: string;
  @ApiProperty({ enum: ['video/mp4', 'audio/mpeg'] }) contentType!: string;
  @ApiProperty() sizeBytes!: number;
  @ApiPropertyOptional({ description: 'from the object metadata (the snippet message\'s id)' }) snippetId?: string;
  @ApiPropertyOptional() durationMs?: number;
}

export class SnippetListDto {
  @ApiProperty() livestreamId!: string;
  @ApiProperty({ type: [SnippetDto] }) snippets!: SnippetDto[];
}
