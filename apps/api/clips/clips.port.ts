// What the clips feature needs from the orchestration and from the bucket, as ports (adapters:
// temporal-clips.adapter.ts, gcs-clip-signer.adapter.ts).
import type { ClipState, ClipWorkflowInput } from '../../../workflows/clip.types';
import type { LivestreamState } from '../../../workflows/livestream.types';

export abstract class ClipsPort {
  /** Starts `clip/{clipId}`, or finds it when the same request was made before. `again`: a new
   *  run of a clip whose last run has finished (failed for a reason that may pass). */
  abstract start(input: ClipWorkflowInput, again?: boolean): Promise<{ workflowId: string; existed: boolean }>;
  /** The clip's state: its query while it runs, its result once done; null when unknown. */
  abstract get(clipId: string): Promise<ClipState | null>;
  /** The livestream workflow's status, or null when Temporal has never heard of it. */
  abstract livestream(livestreamId: string): Promise<LivestreamState | null>;
}

export interface SignedUrl {
  url: string;
  expiresAt: string;
}

export abstract class ClipStore {
  /** A V4 signed GET URL for a clip object. */
  abstract sign(object: string, ttlSeconds: number): Promise<SignedUrl>;
  /** The stored clip object's metadata, or null (a clip whose workflow history has expired). */
  abstract stat(object: string): Promise<{ sizeBytes: number; md5: string; metadata: Record<string, string> } | null>;
}
