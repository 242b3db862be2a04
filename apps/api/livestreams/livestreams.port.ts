// What the livestream feature needs from the orchestration and from the bucket, as ports: the
// service depends on these abstract classes; the Temporal and Cloud Storage adapters implement
// them and translate their backends' errors into the API's domain errors (common/errors.ts).
import type { Layout } from '../../../pipelines/config';
import type { RecordProgress } from '../../../activities/media/media-runtime';
import type { ShipHeartbeat } from '../../../activities/ship/ship.activity';
import type { StoredSnippet } from '../../../activities/ship/snippet-listing';
import type { HostJoinedResult, HostSpec, LivestreamInput, LivestreamState } from '../../../workflows/livestream.types';

export interface StartedLivestream {
  workflowId: string;
  hosts: HostJoinedResult[];
}

export abstract class LivestreamsPort {
  /** Starts the livestream's workflow, or finds the running one, and waits until it is placed and
   *  its initial hosts have ingest endpoints. */
  abstract start(input: LivestreamInput): Promise<StartedLivestream>;
  /** Idempotent: a host already present gets its existing endpoints. */
  abstract joinHost(livestreamId: string, spec: HostSpec): Promise<HostJoinedResult>;
  abstract leaveHost(livestreamId: string, hostId: string): Promise<void>;
  abstract setCamera(livestreamId: string, hostId: string, on: boolean): Promise<void>;
  abstract setMicrophone(livestreamId: string, hostId: string, on: boolean): Promise<void>;
  abstract setLayout(livestreamId: string, layout: Layout): Promise<void>;
  abstract stop(livestreamId: string, reason: string): Promise<void>;
  abstract status(livestreamId: string): Promise<LivestreamState>;
  abstract workflowIdOf(livestreamId: string): string;
  /** What a running recording's activities last reported (their heartbeats); null when the
   *  recording workflow is not running. */
  abstract recordingLive(workflowId: string): Promise<RecordingLive | null>;
  /** Livestreams and recordings running now, over the whole cluster (Temporal visibility). */
  abstract countRunning(): Promise<RunningCounts>;
}

export interface RunningCounts {
  livestreams: number;
  composite: number;
  individual: number;
}

/** The live side of a running recording, from its activities' last heartbeats. */
export interface RecordingLive {
  record: (Partial<RecordProgress> & { heartbeatAt: string | null; attempt: number; lastFailure?: string }) | null;
  ship: (Partial<ShipHeartbeat> & { heartbeatAt: string | null; attempt: number; lastFailure?: string }) | null;
}

export type { StoredSnippet };

export abstract class SnippetStore {
  /** Every snippet of a livestream (or of one of its recordings) in the bucket, by recording and
   *  sequence. */
  abstract list(livestreamId: string, recording?: string): Promise<StoredSnippet[]>;
}
