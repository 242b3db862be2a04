// The clip feature's rules between HTTP and the ports: the request normalized (UTC times, the
// recording's object segment) and checked (end after start, the maximum range, a livestream and
// recording that exist, snippets in a range that is already past), the clip id derived from it,
// and the status shaped for the caller with a fresh signed URL once the clip is ready.
import { Inject, Injectable } from '@nestjs/common';
import { planClip } from '../../../activities/clips/plan';
import { RETRYABLE_CLIP_ERRORS, clipObjectName, clipWorkflowId, requestFields, type ClipRequest, type ClipState } from '../../../workflows/clip.types';
import type { Logger } from '../../common/logger';
import { InvalidField, LivestreamNotFound } from '../common/errors';
import type { ApiConfig } from '../config';
import { SnippetStore } from '../livestreams/livestreams.port';
import { API_CONFIG, LOGGER } from '../tokens';
import { clipIdOf } from './clip-id';
import { NoSnippetsInRange, RecordingNotFound, ClipNotFound } from './clips.errors';
import { ClipStore, ClipsPort } from './clips.port';
import type { ClipAcceptedDto, ClipStatusDto } from './dto/clip-status.dto';
import type { RequestClipDto } from './dto/request-clip.dto';

/** How often a waiting clip workflow lists the bucket again. */
const POLL_MS = 5000;

@Injectable()
export class ClipsService {
  constructor(
    private readonly clips: ClipsPort,
    private readonly store: ClipStore,
    private readonly snippets: SnippetStore,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async request(dto: RequestClipDto, now = Date.now()): Promise<ClipAcceptedDto> {
    const start = Date.parse(dto.start);
    const end = Date.parse(dto.end);
    if (Number.isNaN(start)) throw new InvalidField('start', 'is not a valid date-time');
    if (Number.isNaN(end)) throw new InvalidField('end', 'is not a valid date-time');
    if (end <= start) throw new InvalidField('end', 'must be after start');
    const max = this.config.clipMaxSeconds;
    if (end - start > max * 1000) throw new InvalidField('end', `must be at most ${max} s after start (the range is ${Math.round((end - start) / 1000)} s)`);
    if (end > now + max * 1000) throw new InvalidField('end', `must not be more than ${max} s in the future`);
    const recording = dto.recording === 'composite' ? 'composite' : `host-${dto.recording.hostId}`;
    const request: ClipRequest = {
      livestreamId: dto.livestreamId,
      recording,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      precise: dto.precise ?? false,
      includeAudioOnly: dto.includeAudioOnly ?? false,
      ...(dto.reason !== undefined ? { reason: dto.reason } : {}),
      ...(dto.requestedBy !== undefined ? { requestedBy: dto.requestedBy } : {}),
    };

    // What can be known up front is refused here; the rest is the workflow's (in its status).
    const listing = await this.snippets.list(dto.livestreamId);
    const plan = planClip(listing, request);
    if (!plan.recordingHasSnippets) {
      const live = await this.clips.livestream(dto.livestreamId);
      if (!live && !plan.livestreamHasSnippets) throw new LivestreamNotFound(dto.livestreamId);
      const known = recording === 'composite' || (live && live.hosts[recording.slice('host-'.length)] !== undefined);
      if (!known) throw new RecordingNotFound(dto.livestreamId, recording);
    }
    const settled = end + this.config.clipWaitSeconds * 1000 < now;
    if (settled && !plan.sources.some((s) => s.contentType === 'video/mp4' || request.includeAudioOnly)) {
      const audioOnly = plan.gaps.some((g) => g.kind === 'camera-off');
      throw new NoSnippetsInRange(dto.livestreamId, recording, request.start, request.end, audioOnly ? 'the camera was off: ask with includeAudioOnly for its audio' : undefined);
    }

    const clipId = clipIdOf(request);
    const input = { clipId, request, activityTaskQueue: this.config.clipsTaskQueue, waitForSnippetsMs: this.config.clipWaitSeconds * 1000, pollMs: POLL_MS };
    let started = await this.clips.start(input);
    let state = started.existed ? await this.clips.get(clipId) : null;
    if (state?.status === 'failed' && state.error && RETRYABLE_CLIP_ERRORS.includes(state.error.code)) {
      started = await this.clips.start(input, true);
      state = started.existed ? state : null;
      this.logger.info({ clipId, previous: state?.error ?? null }, 'clip started again after a failure that may have passed');
    }
    this.logger.info({ clipId, livestreamId: request.livestreamId, recording, start: request.start, end: request.end, created: !started.existed }, 'clip requested');
    return { clipId, workflowId: started.workflowId, status: state?.status ?? 'waiting', created: !started.existed };
  }

  async get(clipId: string): Promise<ClipStatusDto> {
    const state = await this.clips.get(clipId);
    const object = clipObjectName(clipId);
    if (!state) {
      // The workflow's history may have expired while the clip stays in the bucket.
      const stat = await this.store.stat(object);
      if (!stat) throw new ClipNotFound(clipId);
      const m = stat.metadata;
      const recording = m.recording ?? 'composite';
      return {
        clipId,
        workflowId: clipWorkflowId(clipId),
        status: 'ready',
        livestreamId: m.livestreamId ?? '',
        recording: recording === 'composite' ? 'composite' : { hostId: recording.slice('host-'.length) },
        start: m.start ?? '',
        end: m.end ?? '',
        precise: m.precise === 'true',
        includeAudioOnly: m.includeAudioOnly === 'true',
        uri: `gs://${this.config.bucket}/${object}`,
        ...(await this.store.sign(object, this.config.clipUrlTtlSeconds).then((s) => ({ signedUrl: s.url, expiresAt: s.expiresAt }))),
        durationMs: Number(m.durationMs ?? 0),
        sizeBytes: stat.sizeBytes,
      };
    }
    return this.toDto(state, state.status === 'ready' ? await this.store.sign(object, this.config.clipUrlTtlSeconds) : null);
  }

  private toDto(s: ClipState, signed: { url: string; expiresAt: string } | null): ClipStatusDto {
    const r = s.request;
    return {
      clipId: s.clipId,
      workflowId: clipWorkflowId(s.clipId),
      status: s.status,
      livestreamId: r.livestreamId,
      recording: r.recording === 'composite' ? 'composite' : { hostId: r.recording.slice('host-'.length) },
      ...requestFields(r),
      createdAt: s.createdAt,
      ...(s.completedAt ? { completedAt: s.completedAt } : {}),
      ...(s.waitingUntil ? { waitingUntil: s.waitingUntil } : {}),
      ...(s.uri ? { uri: s.uri } : {}),
      ...(signed ? { signedUrl: signed.url, expiresAt: signed.expiresAt } : {}),
      ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
      ...(s.sizeBytes !== undefined ? { sizeBytes: s.sizeBytes } : {}),
      snippets: s.snippets,
      gaps: s.gaps,
      ...(s.error ? { error: s.error } : {}),
      notifications: s.notifications,
    };
  }
}
