// The `tapedeck.snippet.v1` message announced on `recording-snippets` (the contract in
// ARCHITECTURE.md; JSON Schema in schemas/tapedeck.snippet.v1.json), its attributes, and the
// object metadata that repeats it. Built from the sidecar (ids, wall-clock times, hosts) and the
// probed file (duration, codecs, sizes, rates): nothing here is assumed.
import type { SnippetMetadata } from '../../pipelines/spool';
import { objectName, snippetId } from './naming';
import type { VerifiedSnippet } from './verify';

export const SNIPPET_SCHEMA = 'tapedeck.snippet.v1';

export interface SnippetMessageV1 {
  schema: typeof SNIPPET_SCHEMA;
  snippetId: string;
  livestreamId: string;
  recordingId: string;
  kind: 'composite' | 'individual';
  hostId?: string;
  variant: 'av' | 'audio';
  sequence: number;
  startTime: string;
  endTime: string;
  durationMs: number;
  uri: string;
  sizeBytes: number;
  /** Base64 MD5 of the object, as Cloud Storage reports `md5Hash`. */
  md5: string;
  contentType: 'video/mp4' | 'audio/mpeg';
  video?: { codec: string; width: number; height: number; fps: number };
  audio: { codec: string; sampleRate: number; channels: number };
  hosts: string[];
}

export function buildMessage(meta: SnippetMetadata, verified: VerifiedSnippet, bucket: string): SnippetMessageV1 {
  const { media } = verified;
  if (!media.audio) throw new Error('verified snippet without audio');
  return {
    schema: SNIPPET_SCHEMA,
    snippetId: snippetId(meta.livestreamId, meta.recordingId, meta.sequence),
    livestreamId: meta.livestreamId,
    recordingId: meta.recordingId,
    kind: meta.kind,
    ...(meta.hostId !== undefined ? { hostId: meta.hostId } : {}),
    variant: meta.variant,
    sequence: meta.sequence,
    startTime: new Date(meta.startTime).toISOString(),
    endTime: new Date(meta.endTime).toISOString(),
    durationMs: media.durationMs,
    uri: `gs://${bucket}/${objectName(meta)}`,
    sizeBytes: verified.sizeBytes,
    md5: verified.md5,
    contentType: meta.contentType,
    ...(media.video ? { video: { ...media.video, fps: media.video.fps || meta.video?.fps || 0 } } : {}),
    audio: media.audio,
    hosts: [...meta.hosts],
  };
}

/** Pub/Sub attributes: what subscribers filter and deduplicate on without parsing the body. */
export function messageAttributes(m: SnippetMessageV1): Record<string, string> {
  return {
    snippetId: m.snippetId,
    livestreamId: m.livestreamId,
    kind: m.kind,
    ...(m.hostId !== undefined ? { hostId: m.hostId } : {}),
    schema: m.schema,
  };
}

/** Custom object metadata (string values only): scalars as they are, nested fields as JSON. */
export function objectMetadata(m: SnippetMessageV1): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}
