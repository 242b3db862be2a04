// The clip activities, built from their dependencies (Cloud Storage, Pub/Sub, a scratch folder,
// the optional moderation webhook). They need GStreamer-free ffmpeg and the bucket, not a spool,
// so every media worker offers them on the shared clips task queue.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { TOPICS } from '../../apps/common/resources';
import type { Logger } from '../../apps/common/logger';
import { clipMessageAttributes, type ClipMessageV1 } from '../../workflows/clip.message';
import { clipObjectName, type ClipPlan, type ClipRequest, type MergedClip } from '../../workflows/clip.types';
import { listStoredSnippets } from '../ship/snippet-listing';
import { checksums } from '../ship/verify';
import type { ClipActivities, DeliverWebhookInput, MergeClipInput } from './contracts';
import { MergeError, mergePieces, type MergePiece } from './merge';
import { planClip } from './plan';
import { SIGNATURE_HEADER, signBody } from './webhook';

export interface ClipWebhookConfig {
  url: URL;
  secret: string;
  timeoutMs: number;
}

export interface ClipActivityDeps {
  storage: Storage;
  pubsub: PubSub;
  bucket: string;
  logger: Logger;
  /** Scratch folder; each merge works in its own subfolder, removed afterwards. */
  workDir: string;
  webhook?: ClipWebhookConfig;
  clock?: () => number;
}

const DOWNLOAD_CONCURRENCY = 6;

function objectOf(uri: string, bucket: string): string {
  const prefix = `gs://${bucket}/`;
  if (!uri.startsWith(prefix)) throw ApplicationFailure.nonRetryable(`${uri} is not in bucket ${bucket}`, 'ClipMergeFailed');
  return uri.slice(prefix.length);
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

/** Heartbeats when running inside an activity; a no-op when called directly (bench, tests). */
function beat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not in an activity context
  }
}

export function createClipActivities(deps: ClipActivityDeps): ClipActivities {
  const clock = deps.clock ?? Date.now;
  const bucket = () => deps.storage.bucket(deps.bucket);

  return {
    async planClip(request: ClipRequest): Promise<ClipPlan> {
      return planClip(await listStoredSnippets(deps.storage, deps.bucket, request.livestreamId), request);
    },

    async mergeClip(input: MergeClipInput): Promise<MergedClip> {
      const object = clipObjectName(input.clipId);
      const log = deps.logger.child({ clipId: input.clipId, livestreamId: input.request.livestreamId, recording: input.request.recording });
      const existing = await bucket().file(object).getMetadata().then(([m]) => m, () => null);
      if (existing) {
        // An earlier attempt uploaded it (the name is only ever written complete, see below).
        log.info({ object }, 'clip already in the bucket');
        return { uri: `gs://${deps.bucket}/${object}`, object, durationMs: Number(existing.metadata?.durationMs ?? 0), sizeBytes: Number(existing.size ?? 0), md5: String(existing.md5Hash ?? ''), video: null };
      }
      await mkdir(deps.workDir, { recursive: true });
      const dir = await mkdtemp(join(deps.workDir, `${input.clipId}-`));
      const ticker = setInterval(() => beat({ step: 'working' }), 10_000);
      try {
        const t0 = clock();
        const pieces: MergePiece[] = input.sources.map((s) => ({
          path: join(dir, `src-${String(s.sequence).padStart(6, '0')}.${s.contentType === 'audio/mpeg' ? 'mp3' : 'mp4'}`),
          kind: s.contentType === 'audio/mpeg' ? 'mp3' : 'mp4',
          startTime: s.startTime,
          endTime: s.endTime,
        }));
        await inParallel(input.sources.map((s, i) => ({ s, p: pieces[i]! })), DOWNLOAD_CONCURRENCY, async ({ s, p }) => {
          await bucket().file(objectOf(s.uri, deps.bucket)).download({ destination: p.path, validation: false });
        });
        beat({ step: 'downloaded', pieces: pieces.length });
        const out = join(dir, 'clip.mp4');
        const merged = await mergePieces(pieces, out, { precise: input.request.precise, start: input.request.start, end: input.request.end, workDir: dir, onStep: (step) => beat({ step }) });
        const sums = await checksums(out);
        const metadata = { clipId: input.clipId, livestreamId: input.request.livestreamId, recording: input.request.recording, start: input.request.start, end: input.request.end, precise: String(input.request.precise), includeAudioOnly: String(input.request.includeAudioOnly), durationMs: String(merged.durationMs), snippets: String(pieces.length) };
        try {
          // One request: the object appears whole or not at all, and only if nobody wrote it first.
          await bucket().upload(out, {
            destination: object,
            resumable: false,
            validation: false,
            preconditionOpts: { ifGenerationMatch: 0 },
            metadata: { contentType: 'video/mp4', md5Hash: sums.md5, crc32c: sums.crc32c, metadata },
          });
        } catch (e) {
          if ((e as { code?: number }).code !== 412) throw e;
        }
        const [stored] = await bucket().file(object).getMetadata();
        log.info({ object, durationMs: merged.durationMs, sizeBytes: sums.sizeBytes, pieces: pieces.length, reencoded: merged.reencoded, ms: clock() - t0 }, 'clip merged and uploaded');
        return { uri: `gs://${deps.bucket}/${object}`, object, durationMs: merged.durationMs, sizeBytes: Number(stored.size ?? sums.sizeBytes), md5: String(stored.md5Hash ?? sums.md5), video: merged.video };
      } catch (e) {
        if (e instanceof MergeError) throw ApplicationFailure.nonRetryable(e.message, 'ClipMergeFailed');
        throw e;
      } finally {
        clearInterval(ticker);
        await rm(dir, { recursive: true, force: true });
      }
    },

    async publishClip(message: ClipMessageV1): Promise<string> {
      return deps.pubsub.topic(TOPICS.clips).publishMessage({ data: Buffer.from(JSON.stringify(message)), attributes: clipMessageAttributes(message) });
    },

    async deliverClipWebhook(input: DeliverWebhookInput) {
      if (!deps.webhook) return { configured: false };
      const at = clock();
      const t = Math.floor(at / 1000);
      const base = { attempt: input.attempt, at: new Date(at).toISOString() };
      try {
        const res = await fetch(deps.webhook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(deps.webhook.secret, input.body, t), 'x-tapedeck-clip-id': input.clipId, 'x-tapedeck-attempt': String(input.attempt) },
          body: input.body,
          signal: AbortSignal.timeout(deps.webhook.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        const ok = res.status >= 200 && res.status < 300;
        return { configured: true, attempt: { ...base, ok, httpStatus: res.status, ...(ok ? {} : { error: `HTTP ${res.status}` }), durationMs: clock() - at } };
      } catch (e) {
        const err = e instanceof Error ? `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` : String(e);
        return { configured: true, attempt: { ...base, ok: false, error: err, durationMs: clock() - at } };
      }
    },
  };
}
