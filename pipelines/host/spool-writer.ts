// Writes the spool folder contract (pipelines/spool.ts) on behalf of the pipeline host: renames a
// closed `.NNNNNN.ext.part` to `NNNNNN.ext`, then writes `NNNNNN.json` through a temp file and a
// rename (its presence means "complete" to shipping), and keeps recording.json current.
// Synchronous on purpose: a few small files per snippet, and the order of the steps is the contract.
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FragmentInfo } from '../protocol';
import { metadataFileName, RECORDING_STATE_FILE, snippetFileName, SPOOL_SCHEMA, type RecordingState, type SnippetMetadata } from '../spool';

export type SnippetDescription = Omit<SnippetMetadata, 'schema' | 'sequence' | 'file' | 'startTime' | 'endTime' | 'durationMs' | 'closedAt'>;

const PART = /^\.(\d{6,})\.(mp4|mp3)\.part$/;

/** Sequence and extension of a splitmuxsink part file, or null for anything else. */
export function parsePartName(location: string): { sequence: number; ext: 'mp4' | 'mp3' } | null {
  const m = PART.exec(basename(location));
  return m ? { sequence: Number(m[1]), ext: m[2] as 'mp4' | 'mp3' } : null;
}

function writeAtomic(path: string, body: string): void {
  const tmp = join(path, '..', `.${basename(path)}.tmp`);
  writeFileSync(tmp, body);
  renameSync(tmp, path);
}

export class SpoolWriter {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  writeState(state: RecordingState): void {
    writeAtomic(join(this.dir, RECORDING_STATE_FILE), `${JSON.stringify(state)}\n`);
  }

  /** Publishes a closed fragment: rename, metadata, recording state. */
  close(location: string, start: Date, end: Date, description: SnippetDescription, closedAt = new Date()): FragmentInfo {
    const part = parsePartName(location);
    if (!part) throw new Error(`unexpected snippet file name ${location}`);
    const file = snippetFileName(part.sequence, part.ext);
    const finalPath = join(this.dir, file);
    renameSync(location, finalPath);
    const sizeBytes = statSync(finalPath).size;
    const durationMs = Math.max(0, end.getTime() - start.getTime());
    const metadata: SnippetMetadata = {
      schema: SPOOL_SCHEMA,
      ...description,
      sequence: part.sequence,
      file,
      startTime: start.toISOString(),
      endTime: end.toISOString(),
      durationMs,
      closedAt: closedAt.toISOString(),
    };
    const metadataLocation = join(this.dir, metadataFileName(part.sequence));
    writeAtomic(metadataLocation, `${JSON.stringify(metadata, null, 2)}\n`);
    this.writeState({ nextSequence: part.sequence + 1 });
    return {
      sequence: part.sequence,
      location: finalPath,
      metadataLocation,
      startTime: metadata.startTime,
      endTime: metadata.endTime,
      durationMs,
      sizeBytes,
    };
  }
}
