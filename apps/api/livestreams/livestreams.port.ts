// What the livestream feature needs from the orchestration and from the bucket, as ports: the
// service depends on these abstract classes; the Temporal and Cloud Storage adapters implement
// them and translate their backends' errors into the API's domain errors (common/errors.ts).
import type { Layout } from '../../../pipelines/config';
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
}

export type { StoredSnippet };

export abstract class SnippetStore {
  /** Every snippet of a livestream (or of one of its recordings) in the bucket, by recording and
   *  sequence. */
  abstract list(livestreamId: string, recording?: string): Promise<StoredSnippet[]>;
}
