// Plain-JSON types of the livestream and recording workflows: inputs, state carried across
// continue-as-new, status and summaries. Pure: imported by workflows, activities, the API.
import type { HostMedia, Layout, VideoCodec } from '../pipelines/config';

export interface HostSpec {
  hostId: string;
  displayName?: string;
  camera?: boolean;
  microphone?: boolean;
  video?: { codec: VideoCodec; payloadType: number };
  audio?: { codec: 'OPUS'; payloadType: number };
}

export interface MediaEndpoint {
  port: number;
  payloadType: number;
  codec: string;
}

export interface IngestEndpoints {
  address: string;
  video: MediaEndpoint;
  audio: MediaEndpoint;
}

export interface HostJoinedResult {
  hostId: string;
  ingest: IngestEndpoints;
}

export interface CompositeOptions {
  layout: Layout;
  rtmp: string[];
  hls: boolean;
}

export interface LivestreamInput {
  livestreamId: string;
  hosts: HostSpec[];
  composite: CompositeOptions;
  /** Whether per-host individual recordings are made. */
  individual: boolean;
  /** Snippet length; 15 in production. */
  snippetSeconds: number;
  /** Set when the workflow continues as new: everything it knew. */
  carried?: LivestreamState;
}

export interface HostState {
  media: HostMedia;
  ingest: IngestEndpoints | null;
  present: boolean;
  joinedAt: string;
  leftAt?: string;
  /** Next snippet sequence of this host's individual recording (`host-{hostId}`); periods continue it. */
  nextSequence: number;
  /** Individual recording periods started so far (names the child workflows). */
  periods: number;
}

export type RecordingKind = 'composite' | 'individual';

export interface RecordingRef {
  workflowId: string;
  recordingId: string;
  kind: RecordingKind;
  hostId?: string;
  variant: 'av' | 'audio';
  state: 'running' | 'stopping' | 'finished' | 'failed';
  startedAt: string;
  finishedAt?: string;
  summary?: RecordingSummary;
}

export interface Placement {
  workerId: string;
  taskQueue: string;
}

export interface LivestreamState {
  livestreamId: string;
  phase: 'placing' | 'recording' | 'stopping' | 'stopped';
  placement: Placement | null;
  hosts: Record<string, HostState>;
  layout: Layout;
  composite: CompositeOptions;
  individual: boolean;
  snippetSeconds: number;
  recordings: RecordingRef[];
  /** Version of the composite's desired state last sent to it. */
  compositeVersion: number;
  startedAt: string;
  stopReason?: string;
  /** Things the workflow rejected or could not do, newest last (bounded). */
  notices: string[];
  /** The composite's desired state as last sent, carried across continue-as-new. */
  carriedFingerprint?: string;
}

export interface RecordingSummary {
  recordingId: string;
  snippets: number;
  firstSequence: number | null;
  lastSequence: number | null;
  /** Next sequence a later period of the same recording continues from. */
  nextSequence: number;
  durationMs: number;
  /** Stretches between consecutive snippets longer than one frame. */
  gaps: Array<{ afterSequence: number; ms: number }>;
  shipped: number;
  restarts: number;
  warnings: string[];
}

export interface LivestreamSummary {
  livestreamId: string;
  startedAt: string;
  stoppedAt: string;
  stopReason: string;
  recordings: Array<Omit<RecordingRef, 'state'> & { state: RecordingRef['state'] }>;
}

export interface CompositeDesired {
  version: number;
  hosts: HostMedia[];
  layout: Layout;
  /** RTMP destinations (absent: unchanged since start). */
  rtmp?: string[];
}

export interface RecordingWorkflowInput {
  livestreamId: string;
  recordingId: string;
  kind: RecordingKind;
  variant: 'av' | 'audio';
  hostId?: string;
  /** The media worker's own task queue: recording and shipping run there. */
  mediaTaskQueue: string;
  parentWorkflowId: string;
  startSequence: number;
  snippetSeconds: number;
  /** Composite: hosts and layout at start; individual: the one host. */
  composite?: CompositeDesired & { rtmp: string[]; hls: boolean };
  host?: HostMedia;
}

export interface RecordingFinished {
  workflowId: string;
  summary: RecordingSummary | null;
  error?: string;
}

export const DEFAULT_VIDEO = { codec: 'VP8', payloadType: 96 } as const;
export const DEFAULT_AUDIO = { codec: 'OPUS', payloadType: 111 } as const;

export const livestreamWorkflowId = (livestreamId: string) => `livestream/${livestreamId}`;
export const compositeWorkflowId = (livestreamId: string) => `livestream/${livestreamId}/composite`;
export const individualWorkflowId = (livestreamId: string, hostId: string, period: number) =>
  `livestream/${livestreamId}/host/${hostId}/${period}`;
export const hostRecordingId = (hostId: string) => `host-${hostId}`;
