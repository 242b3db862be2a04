// SnippetStore over Cloud Storage: lists `livestreams/{livestreamId}/[{recording}/]` and reads
// each snippet's sequence and times back from its name (the contract's storage layout), its id
// and duration from the object metadata the shipper wrote.
import type { Storage } from '@google-cloud/storage';
import { BackendTimeout, BackendUnavailable } from '../common/errors';
import { SnippetStore, type StoredSnippet } from './livestreams.port';

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

export class GcsSnippetStore extends SnippetStore {
  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  async list(livestreamId: string, recording?: string): Promise<StoredSnippet[]> {
    const prefix = `livestreams/${livestreamId}/${recording ? `${recording}/` : ''}`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BackendTimeout('storage', `listing ${prefix} within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const [files] = await Promise.race([this.storage.bucket(this.bucket).getFiles({ prefix, autoPaginate: true }), timeout]);
      return files
        .map((f) => parseSnippetName(this.bucket, f.name, Number(f.metadata.size ?? 0), (f.metadata.metadata ?? {}) as Record<string, unknown>))
        .filter((s): s is StoredSnippet => s !== null)
        .sort((a, b) => a.recording.localeCompare(b.recording) || a.sequence - b.sequence);
    } catch (e) {
      if (e instanceof BackendTimeout) throw e;
      throw new BackendUnavailable('storage', e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
    }
  }
}
