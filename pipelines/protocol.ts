// The typed message protocol between a supervisor (recording activity, CLI, tests) and a pipeline
// host child process (one process per recording, over Node's IPC channel). Plain JSON only.
import type { HostMedia, Layout, RecordingConfig } from './config';
import type { OutputStatus } from './outputs/outputs';

/**
 * Where a pipeline listens for one host's media: loopback UDP ports (udpsrc, bound by the
 * pipeline) that the ingest forwards that host's RTP packets to. RTCP stays in the ingest, which
 * turns sender reports into `set-sync` commands.
 */
export interface InputPorts {
  hostId: string;
  video?: { rtpPort: number };
  audio?: { rtpPort: number };
}

// ---- supervisor → host ------------------------------------------------------------------------
export type HostCommand =
  | { type: 'start'; config: RecordingConfig }
  | { type: 'add-input'; host: HostMedia }
  | { type: 'remove-input'; hostId: string }
  | { type: 'set-layout'; layout: Layout }
  | { type: 'set-camera'; hostId: string; on: boolean }
  | { type: 'set-microphone'; hostId: string; on: boolean }
  /** Lip sync from RTCP sender reports: delay this host's audio by `audioDelayMs` (may be negative: delay video). */
  | { type: 'set-sync'; hostId: string; audioDelayMs: number }
  /** Replaces the composite's RTMP destinations (validated URLs; see pipelines/outputs/). */
  | { type: 'set-outputs'; rtmp: string[] }
  | { type: 'stop'; reason: string }
  | { type: 'ping'; id: number };

// ---- host → supervisor ------------------------------------------------------------------------
export interface FragmentInfo {
  sequence: number;
  /** Final path of the snippet file (after the host renamed it from its temporary name). */
  location: string;
  /** Path of the sidecar metadata written beside it (see spool.ts). */
  metadataLocation: string;
  startTime: string;
  endTime: string;
  durationMs: number;
  sizeBytes: number;
}

export interface BranchStats {
  hostId: string;
  media: 'video' | 'audio';
  packetsIn?: number;
  framesIn: number;
  fpsIn: number;
  /**
   * Fill level of the branch's queue, 0..1. A composite's audio branches have none (their jitter
   * buffer's thread feeds the mixer): theirs is the jitter buffer's, against its latency.
   */
  queueFill: number;
  /** Frames the branch's videorate dropped, plus packets its jitter buffer lost or dropped (late, or held past its latency). */
  dropped: number;
  /**
   * Composite camera branches: frames the tile repeated to fill a hole in its camera's input (its
   * videorate's duplicates). A camera sending steadily has none; see composite.pipeline.ts on why
   * a resize must not open one.
   */
  duplicated: number;
  lastBufferAgeMs: number | null;
}

export interface PipelineStats {
  uptimeMs: number;
  framesOut: number;
  fpsOut: number;
  droppedOut: number;
  bitrateKbps: number;
  encoderLatencyMs: number | null;
  branches: BranchStats[];
  activeSpeaker?: string | null;
  cpuSeconds: number;
  rssBytes: number;
  /** Live outputs of a composite (stream keys redacted). */
  outputs?: OutputStatus[];
}

export type HostEvent =
  | { type: 'ready'; pid: number; inputs: InputPorts[]; startedAt: string }
  | { type: 'input-added'; inputs: InputPorts }
  | { type: 'input-removed'; hostId: string }
  | { type: 'fragment-opened'; sequence: number; startTime: string }
  | ({ type: 'fragment-closed' } & FragmentInfo)
  | { type: 'stats'; stats: PipelineStats }
  /** A live output changed state (connected, retrying, failed, ...): every output's status. */
  | { type: 'outputs'; outputs: OutputStatus[] }
  | { type: 'warning'; code: string; message: string; hostId?: string }
  | { type: 'error'; code: string; message: string; fatal: boolean; debug?: string }
  | { type: 'eos' }
  | { type: 'stopped'; forced: boolean; reason: string; graphDump?: string }
  | { type: 'pong'; id: number };
