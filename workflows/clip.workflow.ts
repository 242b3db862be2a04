// The extended clip workflow (`clip/{clipId}`): list the recording's snippets overlapping
// [start, end] (waiting, bounded, for a range that reaches into the future), merge and upload
// them (activities on the shared clips queue, served by any media worker), then announce the clip
// on Pub/Sub and POST the same message to the moderation webhook, retrying with backoff and
// recording every attempt. The status query and the result have the same shape (ClipState).
import { ActivityFailure, ApplicationFailure, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { ClipActivities } from '../activities/clips/contracts';
import { buildClipMessage } from './clip.message';
import type { ClipErrorCode, ClipPlan, ClipState, ClipWorkflowInput } from './clip.types';
import { clipStatusQuery } from './contract';
import { WEBHOOK_RETRY, clipCall, clipMerge } from './policies';

/** Snippet ends within this of `end` count as covering it (snippet times are wall-clock
 *  estimates; a frame at 15 fps is 67 ms). */
const COVER_TOLERANCE_MS = 100;

export async function clip(input: ClipWorkflowInput): Promise<ClipState> {
  const calls = proxyActivities<ClipActivities>({ ...clipCall, taskQueue: input.activityTaskQueue });
  const merging = proxyActivities<ClipActivities>({ ...clipMerge, taskQueue: input.activityTaskQueue });
  const webhook = proxyActivities<ClipActivities>({ ...clipCall, retry: { maximumAttempts: 1 }, taskQueue: input.activityTaskQueue });
  const req = input.request;
  const state: ClipState = {
    clipId: input.clipId,
    status: 'waiting',
    request: req,
    createdAt: new Date().toISOString(),
    snippets: [],
    gaps: [],
    notifications: { pubsub: { published: false }, webhook: { configured: false, delivered: false, attempts: [] } },
  };
  setHandler(clipStatusQuery, () => state);

  const fail = (code: ClipErrorCode, message: string) => {
    state.status = 'failed';
    state.error = { code, message };
  };
  const errorText = (e: unknown) => (e instanceof ActivityFailure && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e));

  const endMs = Date.parse(req.end);
  const waitUntil = endMs + input.waitForSnippetsMs;
  let plan: ClipPlan | undefined;
  if (Date.now() < endMs) state.waitingUntil = new Date(waitUntil).toISOString();
  try {
    plan = await calls.planClip(req);
    while (!(plan.coveredUntil && Date.parse(plan.coveredUntil) >= endMs - COVER_TOLERANCE_MS) && Date.now() < waitUntil) {
      state.waitingUntil = new Date(waitUntil).toISOString();
      state.snippets = plan.sources;
      state.gaps = plan.gaps;
      // Until the range has ended nothing can complete it: sleep to its end, then list every pollMs.
      await sleep(Math.max(1, Math.min(waitUntil - Date.now(), Math.max(input.pollMs, endMs - Date.now()))));
      plan = await calls.planClip(req);
    }
  } catch (e) {
    fail('storage_unavailable', `listing the bucket failed: ${errorText(e)}`);
  }
  delete state.waitingUntil;
  if (plan) {
    state.snippets = plan.sources;
    state.gaps = plan.gaps;
  }

  if (!plan || state.status === 'failed') {
    // reported below
  } else if (!plan.livestreamHasSnippets) fail('livestream_not_found', `livestream "${req.livestreamId}" has no snippets in the bucket`);
  else if (!plan.recordingHasSnippets) fail('recording_not_found', `recording "${req.recording}" of livestream "${req.livestreamId}" has no snippets in the bucket`);
  else if (!plan.sources.some((s) => s.contentType === 'video/mp4' || req.includeAudioOnly)) {
    fail('no_snippets_in_range', `no ${req.includeAudioOnly ? '' : 'video '}snippets of ${req.recording} between ${req.start} and ${req.end}`);
  }

  if (plan && state.status !== 'failed') {
    state.status = 'merging';
    try {
      const merged = await merging.mergeClip({ clipId: input.clipId, request: req, sources: plan.sources });
      Object.assign(state, { status: 'ready', uri: merged.uri, durationMs: merged.durationMs, sizeBytes: merged.sizeBytes, md5: merged.md5 });
    } catch (e) {
      const cause = e instanceof ActivityFailure && e.cause instanceof ApplicationFailure ? e.cause : undefined;
      // ffmpeg refusing the snippets is the media's fault; anything else (storage, a lost worker
      // after the retries) may pass, and asking again starts the clip again.
      if (cause?.type === 'ClipMergeFailed') fail('merge_failed', cause.message);
      else fail('storage_unavailable', errorText(e));
    }
  }

  state.completedAt = new Date().toISOString();
  const message = buildClipMessage(state, state.completedAt);
  try {
    state.notifications.pubsub = { published: true, messageId: await calls.publishClip(message) };
  } catch (e) {
    state.notifications.pubsub = { published: false, error: errorText(e) };
  }

  const body = JSON.stringify(message);
  let delayMs = WEBHOOK_RETRY.initialMs;
  for (let attempt = 1; attempt <= WEBHOOK_RETRY.maxAttempts; attempt++) {
    let result;
    try {
      result = await webhook.deliverClipWebhook({ clipId: input.clipId, body, attempt });
    } catch (e) {
      result = { configured: true, attempt: { attempt, at: new Date().toISOString(), ok: false, error: errorText(e), durationMs: 0 } };
    }
    if (!result.configured) break;
    state.notifications.webhook.configured = true;
    state.notifications.webhook.attempts.push(result.attempt!);
    if (result.attempt!.ok) {
      state.notifications.webhook.delivered = true;
      break;
    }
    if (attempt < WEBHOOK_RETRY.maxAttempts) {
      await sleep(delayMs);
      delayMs = Math.min(delayMs * WEBHOOK_RETRY.factor, WEBHOOK_RETRY.maxMs);
    }
  }
  return state;
}
