// The `tapedeck.clip.v1` message (schemas/tapedeck.clip.v1.json), published on `extended-clips`
// and POSTed to the moderation webhook when a clip is ready or has failed. Pure: built by the clip
// workflow from its state, so the Pub/Sub message and the webhook body are the same bytes.
import { requestFields, type ClipGap, type ClipRequest, type ClipState } from './clip.types';

export const CLIP_SCHEMA = 'tapedeck.clip.v1';

export interface ClipMessageV1 extends ClipRequest {
  schema: typeof CLIP_SCHEMA;
  clipId: string;
  status: 'ready' | 'failed';
  hostId?: string;
  uri?: string;
  contentType?: 'video/mp4';
  durationMs?: number;
  sizeBytes?: number;
  md5?: string;
  snippets: Array<{ uri: string; sequence: number; startTime: string; endTime: string }>;
  gaps: ClipGap[];
  error?: { code: string; message: string };
  completedAt: string;
}

export function buildClipMessage(s: ClipState, completedAt: string): ClipMessageV1 {
  const r = s.request;
  const ready = s.status !== 'failed';
  return {
    schema: CLIP_SCHEMA,
    clipId: s.clipId,
    status: ready ? 'ready' : 'failed',
    livestreamId: r.livestreamId,
    recording: r.recording,
    ...(r.recording.startsWith('host-') ? { hostId: r.recording.slice('host-'.length) } : {}),
    ...requestFields(r),
    ...(ready && s.uri ? { uri: s.uri, contentType: 'video/mp4' as const, durationMs: s.durationMs!, sizeBytes: s.sizeBytes!, md5: s.md5! } : {}),
    snippets: s.snippets.map((x) => ({ uri: x.uri, sequence: x.sequence, startTime: x.startTime, endTime: x.endTime })),
    gaps: s.gaps,
    ...(s.error ? { error: s.error } : {}),
    completedAt,
  };
}

/** Pub/Sub attributes: what subscribers filter on without parsing the body. */
export function clipMessageAttributes(m: ClipMessageV1): Record<string, string> {
  return { clipId: m.clipId, livestreamId: m.livestreamId, status: m.status, schema: m.schema };
}
