// Reading shipped snippets back from the bucket: the object name carries the recording, sequence
// and wall-clock times (the contract's storage layout, written by naming.ts), the object metadata
// the snippet id and duration. Used by the API's snippet listing and by extended clips.
import type { Storage } from '@google-cloud/storage';

/** One shipped snippet, as its object name and metadata describe it. */
export interface StoredSnippet {
  recording: string;
  sequence: number;
  startTime: string;
  endTime: string;
  uri: string;
  contentType: 'video/mp4' | 'audio/mpeg';
  sizeBytes: number;
  snippetId?: string;
  durationMs?: number;
}

const NAME = /^livestreams\/[A-Za-z0-9_-]{1,64}\/(composite|host-[A-Za-z0-9_-]{1,64})\/(\d{6,})_(\d{8}T\d{6}\.\d{3}Z)_(\d{8}T\d{6}\.\d{3}Z)\.(mp4|mp3)$/;

/** `YYYYMMDDTHHMMSS.mmmZ` back to ISO 8601. */
export function isoFromCompact(c: string): string {
  return `${c.slice(0, 4)}-${c.slice(4, 6)}-${c.slice(6, 8)}T${c.slice(9, 11)}:${c.slice(11, 13)}:${c.slice(13)}`;
}

/** A snippet from its object name, or null for anything else under the prefix. */
export function parseSnippetName(bucket: string, name: string, sizeBytes: number, metadata: Record<string, unknown> = {}): StoredSnippet | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const snippetId = typeof metadata.snippetId === 'string' ? metadata.snippetId : undefined;
  const durationMs = Number(metadata.durationMs);
  return {
    recording: m[1]!,
    sequence: Number(m[2]),
    startTime: isoFromCompact(m[3]!),
    endTime: isoFromCompact(m[4]!),
    uri: `gs://${bucket}/${name}`,
    contentType: m[5] === 'mp3' ? 'audio/mpeg' : 'video/mp4',
    sizeBytes,
    ...(snippetId ? { snippetId } : {}),
    ...(Number.isFinite(durationMs) && durationMs > 0 ? { durationMs } : {}),
  };
}

/** Every snippet of a livestream (or of one of its recordings) in the bucket, by recording and
 *  sequence. Storage errors are thrown as they come. */
export async function listStoredSnippets(storage: Storage, bucket: string, livestreamId: string, recording?: string): Promise<StoredSnippet[]> {
  const prefix = `livestreams/${livestreamId}/${recording ? `${recording}/` : ''}`;
  const [files] = await storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
  return files
    .map((f) => parseSnippetName(bucket, f.name, Number(f.metadata.size ?? 0), (f.metadata.metadata ?? {}) as Record<string, unknown>))
    .filter((s): s is StoredSnippet => s !== null)
    .sort((a, b) => a.recording.localeCompare(b.recording) || a.sequence - b.sequence);
}
