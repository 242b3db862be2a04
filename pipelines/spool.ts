// The spool folder contract between the pipeline host (writer) and the shipping activity
// (reader). One folder per recording: {spoolRoot}/{livestreamId}/{recordingId}/
//
//   .000007.mp4.part    the snippet splitmuxsink is writing (never touched by shipping)
//   000006.mp4          a closed snippet, renamed from its .part name on fragment-closed
//   000006.json         its metadata, written after the rename via a temp file + rename, so its
//                       presence means "complete"; shipping picks up only snippets with one
//   recording.json      { nextSequence }: where a restarted recording continues numbering
//   quarantine/         files shipping found corrupt, with a .reason.txt beside each
//   finished.json       written (temp file + rename) by the recording activity once the pipeline
//                       has stopped and its last snippet is closed: shipping drains and completes
//   shipped.json        shipping's own progress (written only by shipping): the last sequence
//                       fully shipped, and how far the snippet in flight got (uploaded/published)
//
// Shipping deletes a snippet and its metadata only after upload and publish both succeeded:
// first the media file, then its metadata, so a crash in between leaves a sidecar that
// shipped.json marks as done.

export const SPOOL_SCHEMA = 'tapedeck.spool.v1';

export interface SnippetMetadata {
  schema: typeof SPOOL_SCHEMA;
  livestreamId: string;
  recordingId: string;
  kind: 'composite' | 'individual';
  hostId?: string;
  variant: 'av' | 'audio';
  sequence: number;
  /** File name of the snippet in the same folder, e.g. 000006.mp4. */
  file: string;
  /** Wall-clock start and end (ISO 8601, UTC), from the pipeline clock and running times. */
  startTime: string;
  endTime: string;
  durationMs: number;
  contentType: 'video/mp4' | 'audio/mpeg';
  video?: { codec: 'H264'; width: number; height: number; fps: number };
  audio: { codec: 'AAC' | 'MP3'; sampleRate: number; channels: number };
  /** Hosts visible or audible in the snippet. */
  hosts: string[];
  /** When the pipeline closed the fragment (for close → publish latency). */
  closedAt: string;
}

export interface RecordingState {
  nextSequence: number;
}

export const snippetFileName = (sequence: number, ext: 'mp4' | 'mp3') => `${String(sequence).padStart(6, '0')}.${ext}`;
export const metadataFileName = (sequence: number) => `${String(sequence).padStart(6, '0')}.json`;
export const partFileName = (sequence: number, ext: 'mp4' | 'mp3') => `.${String(sequence).padStart(6, '0')}.${ext}.part`;
export const RECORDING_STATE_FILE = 'recording.json';
export const QUARANTINE_DIR = 'quarantine';
export const FINISHED_MARKER_FILE = 'finished.json';
export const SHIP_STATE_FILE = 'shipped.json';
export const QUARANTINE_REASON_SUFFIX = '.reason.txt';

/** Contents of finished.json. */
export interface FinishedMarker {
  finishedAt: string;
  /** Sequence of the last snippet the recording closed, when known (shipping reports gaps). */
  lastSequence?: number;
}

/** Contents of shipped.json (owned by shipping). */
export interface ShipState {
  lastShippedSequence: number | null;
  /** The snippet being shipped and the steps that are confirmed for it. */
  inFlight?: { sequence: number; object: string; md5: string; uploaded: boolean; published: boolean; messageId?: string };
}
