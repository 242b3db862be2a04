// The clip activities as the clip workflow sees them (types only; workflows import nothing else
// from activities/). They run on the shared clips task queue, which every media worker polls.
import type { ClipMessageV1 } from '../../workflows/clip.message';
import type { ClipPlan, ClipRequest, ClipSource, MergedClip, WebhookAttempt } from '../../workflows/clip.types';

export interface MergeClipInput {
  clipId: string;
  request: ClipRequest;
  sources: ClipSource[];
}

export interface DeliverWebhookInput {
  clipId: string;
  /** The exact body to POST (and sign). */
  body: string;
  attempt: number;
}

export interface ClipActivities {
  /** Lists the livestream's snippets in the bucket and picks those of the clip's range. */
  planClip(request: ClipRequest): Promise<ClipPlan>;
  /** Downloads, merges (stream copy; edges re-encoded when precise) and uploads `clips/{clipId}.mp4`. */
  mergeClip(input: MergeClipInput): Promise<MergedClip>;
  /** Publishes the message on `extended-clips`; returns the message id. */
  publishClip(message: ClipMessageV1): Promise<string>;
  /** One signed POST to the moderation webhook, never thrown: the workflow retries and records it.
   *  `configured: false` when this worker has no webhook URL. */
  deliverClipWebhook(input: DeliverWebhookInput): Promise<{ configured: boolean; attempt?: WebhookAttempt }>;
}
