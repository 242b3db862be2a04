// Names and ids of a shipped snippet, derived only from (livestreamId, recordingId, sequence) and
// the sidecar's wall-clock times, so every retry of the same snippet lands on the same object and
// carries the same snippetId. Pure: no I/O.
import { createHash } from 'node:crypto';
import type { SnippetMetadata } from '../../pipelines/spool';

/** `YYYYMMDDTHHMMSS.mmmZ` (UTC), the contract's time format in object names. */
export function compactUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`"${iso}" is not a timestamp`);
  return d.toISOString().replace(/[-:]/g, '');
}

/** The object path segment of a recording: `composite` or `host-{hostId}` (contract). */
export function recordingSegment(meta: Pick<SnippetMetadata, 'kind' | 'hostId'>): string {
  if (meta.kind === 'composite') return 'composite';
  if (!meta.hostId) throw new Error('an individual snippet needs a hostId');
  return `host-${meta.hostId}`;
}

export function extensionOf(contentType: SnippetMetadata['contentType']): 'mp4' | 'mp3' {
  return contentType === 'audio/mpeg' ? 'mp3' : 'mp4';
}

/** `livestreams/{livestreamId}/{recording}/{sequence:06d}_{startUtc}_{endUtc}.{mp4|mp3}` */
export function objectName(meta: Pick<SnippetMetadata, 'livestreamId' | 'kind' | 'hostId' | 'sequence' | 'startTime' | 'endTime' | 'contentType'>): string {
  const seq = String(meta.sequence).padStart(6, '0');
  return `livestreams/${meta.livestreamId}/${recordingSegment(meta)}/${seq}_${compactUtc(meta.startTime)}_${compactUtc(meta.endTime)}.${extensionOf(meta.contentType)}`;
}

// A fixed namespace makes snippet ids UUIDv5 values: stable across processes and versions, and
// recognisable as ids by consumers that store them in uuid columns.
const SNIPPET_NAMESPACE = Buffer.from('6f1d2c3e8a4b4f0e9c7d5a1b2e3f4a5b', 'hex');

/** UUIDv5 of `livestreamId/recordingId/sequence`: the same snippet always gets the same id. */
export function snippetId(livestreamId: string, recordingId: string, sequence: number): string {
  const hash = createHash('sha1').update(SNIPPET_NAMESPACE).update(`${livestreamId}/${recordingId}/${sequence}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
