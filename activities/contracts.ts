// The activity interfaces the workflows call, as types only (workflows import nothing else from
// activities/). Control activities run on the shared control queue; media activities on the
// livestream's media worker's own queue.
import type { CompositeDesired, IngestEndpoints, Placement, RecordingSummary, RecordingWorkflowInput } from '../workflows/livestream.types';
import type { HostMedia } from '../pipelines/config';

export interface PlaceInput {
  livestreamId: string;
  /** Estimated CPU (cores) the livestream's recordings will need at start. */
  estimatedCores: number;
}

export interface MediaCandidate extends Placement {
  freeCores: number;
}

export interface ControlActivities {
  /** Media workers that reported recently and can take `estimatedCores`, most free first;
   *  CapacityExhausted (with a reason) when none can. */
  listMediaCandidates(input: PlaceInput): Promise<MediaCandidate[]>;
}

export interface RecordActivityInput extends RecordingWorkflowInput {
  /** Current desired composite state when (re)starting, read by the workflow. */
  desired?: CompositeDesired;
}

export interface MediaActivities {
  /** Reserves capacity for a livestream on this worker (idempotent); false when it is full. */
  reserveCapacity(input: PlaceInput): Promise<boolean>;
  /** Opens (or, after a worker restart, re-opens on the same ports) a host's UDP ingest. Idempotent. */
  openIngest(input: { livestreamId: string; host: HostMedia; previous: IngestEndpoints | null }): Promise<IngestEndpoints>;
  closeIngest(input: { livestreamId: string; hostId: string }): Promise<void>;
  /** Runs one recording until stopped; heartbeats progress; a retry continues the sequence. */
  record(input: RecordActivityInput): Promise<RecordingSummary>;
  /** Brings a running composite to the desired hosts and layout; false when it is not running. */
  applyComposite(input: { livestreamId: string; recordingId: string; desired: CompositeDesired }): Promise<boolean>;
  /** Asks a running recording to finish its last snippet and return (true), or, when none is
   *  running, marks the recording finished so shipping drains and completes (false). */
  stopRecording(input: { livestreamId: string; recordingId: string; reason: string }): Promise<boolean>;
  /** Ships a recording's snippets until the recording has finished and the spool is drained. */
  shipRecording(input: { livestreamId: string; recordingId: string }): Promise<{ shipped: number }>;
  /** Releases what the worker holds for a livestream (ports, reservations). */
  releaseLivestream(input: { livestreamId: string }): Promise<void>;
}
