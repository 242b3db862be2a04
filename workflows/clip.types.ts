// Types of an extended clip, shared by the clip workflow, its activities, the API and the tests.
// Pure: no I/O, safe in workflow code.

/** `composite` or `host-{hostId}`: the recording's segment in snippet object names. */
export type RecordingSegment = string;

/** A clip request after validation and normalization (what the clip id is derived from, plus
 *  the two free-text fields that are carried but never part of the id). */
export interface ClipRequest {
  livestreamId: string;
  recording: RecordingSegment;
  /** ISO 8601 UTC with milliseconds. */
  start: string;
  end: string;
  /** Re-encode the first and last partial GOP so the clip starts and ends at the requested times. */
  precise: boolean;
  /** A camera-off (MP3-only) stretch of a host is included as audio with a placeholder picture. */
  includeAudioOnly: boolean;
  reason?: string;
  requestedBy?: string;
}

/** The request's fields as the status and the message repeat them (the recording aside). */
export function requestFields(r: ClipRequest): Omit<ClipRequest, 'livestreamId' | 'recording'> {
  return {
    start: r.start,
    end: r.end,
    precise: r.precise,
    includeAudioOnly: r.includeAudioOnly,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.requestedBy !== undefined ? { requestedBy: r.requestedBy } : {}),
  };
}

export interface ClipWorkflowInput {
  clipId: string;
  request: ClipRequest;
  /** Task queue of the clip activities (any media worker polls it). */
  activityTaskQueue: string;
  /** How long after `end` a range reaching into the future may wait for its snippets. */
  waitForSnippetsMs: number;
  /** How often the bucket is listed again while waiting. */
  pollMs: number;
}

/** One snippet a clip is made from, as the bucket listing names it. */
export interface ClipSource {
  uri: string;
  sequence: number;
  startTime: string;
  endTime: string;
  contentType: 'video/mp4' | 'audio/mpeg';
  sizeBytes: number;
}

/** A stretch of the range without video: the host's camera was off (audio-only snippets exist),
 *  or nothing was recorded at all. */
export interface ClipGap {
  start: string;
  end: string;
  kind: 'camera-off' | 'no-media';
  /** True when the stretch is in the clip (audio with a placeholder picture). */
  included: boolean;
}

/** What the bucket holds for a clip's range (planClip). */
export interface ClipPlan {
  /** The pieces to merge, in time order: MP4 snippets, and MP3 ones when audio-only is included. */
  sources: ClipSource[];
  gaps: ClipGap[];
  /** End of the last snippet in the range (null when none): the range is covered up to here. */
  coveredUntil: string | null;
  /** What the listing says about the recording and the livestream. */
  livestreamHasSnippets: boolean;
  recordingHasSnippets: boolean;
}

export interface WebhookAttempt {
  attempt: number;
  at: string;
  ok: boolean;
  httpStatus?: number;
  error?: string;
  durationMs: number;
}

export type ClipErrorCode = 'no_snippets_in_range' | 'recording_not_found' | 'livestream_not_found' | 'merge_failed' | 'storage_unavailable' | 'invalid_request';

/** Failures that asking again may cure: the same request starts the clip again. */
export const RETRYABLE_CLIP_ERRORS: ReadonlyArray<ClipErrorCode> = ['storage_unavailable'];

export interface ClipState {
  clipId: string;
  status: 'waiting' | 'merging' | 'ready' | 'failed';
  request: ClipRequest;
  createdAt: string;
  completedAt?: string;
  /** While waiting for a range that reached into the future: until when, at most. */
  waitingUntil?: string;
  uri?: string;
  durationMs?: number;
  sizeBytes?: number;
  md5?: string;
  snippets: ClipSource[];
  gaps: ClipGap[];
  error?: { code: ClipErrorCode; message: string };
  notifications: {
    pubsub: { published: boolean; messageId?: string; error?: string };
    webhook: { configured: boolean; delivered: boolean; attempts: WebhookAttempt[] };
  };
}

/** What mergeClip made and uploaded. */
export interface MergedClip {
  uri: string;
  object: string;
  durationMs: number;
  sizeBytes: number;
  md5: string;
  video: { codec: string; width: number; height: number; fps: number } | null;
}

export const clipWorkflowId = (clipId: string) => `clip/${clipId}`;
export const clipObjectName = (clipId: string) => `clips/${clipId}.mp4`;
export const CLIP_ID_PATTERN = /^clip-[0-9a-f]{24}$/;
