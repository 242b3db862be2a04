// Configuration of the worker process, validated once at start-up.
import { cpus, hostname } from 'node:os';
import { resolve } from 'node:path';
import { temporalConnectOptions } from '../common/clients';
import { ConfigError, loadConfig } from '../common/config';
import type { Env } from '../common/env';
import * as v from '../common/variables';
import { ingestVariables } from '../../pipelines/ingest/config';

export function loadWorkerConfig(env: Env) {
  const c = loadConfig(env, {
    ...v.temporalVariables,
    projectId: v.GOOGLE_CLOUD_PROJECT,
    bucket: v.TAPEDECK_BUCKET,
    storageEmulator: v.STORAGE_EMULATOR_HOST,
    pubsubEmulator: v.PUBSUB_EMULATOR_HOST,
    logLevel: v.TAPEDECK_LOG_LEVEL,
    roles: v.TAPEDECK_WORKER_ROLES,
    workerId: v.TAPEDECK_WORKER_ID,
    controlTaskQueue: v.TAPEDECK_TASK_QUEUE,
    httpHost: v.TAPEDECK_WORKER_HTTP_HOST,
    httpPort: v.TAPEDECK_WORKER_HTTP_PORT,
    shutdownGraceMs: v.TAPEDECK_SHUTDOWN_GRACE_MS,
    ...ingestVariables,
    spoolDir: v.TAPEDECK_SPOOL_DIR,
    compositeVideoKbps: v.TAPEDECK_COMPOSITE_VIDEO_KBPS,
    individualVideoKbps: v.TAPEDECK_INDIVIDUAL_VIDEO_KBPS,
    audioKbps: v.TAPEDECK_AUDIO_KBPS,
    x264Preset: v.TAPEDECK_X264_PRESET,
    noMediaWarningMs: v.TAPEDECK_NO_MEDIA_WARNING_MS,
    lossWarningPercent: v.TAPEDECK_LOSS_WARNING_PERCENT,
    hlsSegmentSeconds: v.TAPEDECK_HLS_SEGMENT_SECONDS,
    hlsPlaylistLength: v.TAPEDECK_HLS_PLAYLIST_LENGTH,
    rtmpMaxRetries: v.TAPEDECK_RTMP_MAX_RETRIES,
    rtmpsAllowUnknownCa: v.TAPEDECK_RTMPS_ALLOW_UNKNOWN_CA,
    stopTimeoutMs: v.TAPEDECK_STOP_TIMEOUT_MS,
    opusSizeCache: v.TAPEDECK_OPUS_SIZE_CACHE,
    recordHeartbeatMs: v.TAPEDECK_RECORD_HEARTBEAT_MS,
    mediaCapacityCores: v.TAPEDECK_MEDIA_CAPACITY_CORES,
    mediaReportMs: v.TAPEDECK_MEDIA_REPORT_MS,
    placementFreshMs: v.TAPEDECK_PLACEMENT_FRESH_MS,
    shipRescanMs: v.TAPEDECK_SHIP_RESCAN_MS,
    shipHeartbeatMs: v.TAPEDECK_SHIP_HEARTBEAT_MS,
    shipBackoffMaxMs: v.TAPEDECK_SHIP_BACKOFF_MAX_MS,
    shipPublishTimeoutMs: v.TAPEDECK_SHIP_PUBLISH_TIMEOUT_MS,
    shipSpoolWarnMb: v.TAPEDECK_SHIP_SPOOL_WARN_MB,
    shipMinFreeMb: v.TAPEDECK_SHIP_MIN_FREE_MB,
    clipsTaskQueue: v.TAPEDECK_CLIPS_TASK_QUEUE,
    clipWorkDir: v.TAPEDECK_CLIP_WORK_DIR,
    clipWebhookUrl: v.TAPEDECK_CLIP_WEBHOOK_URL,
    clipWebhookSecret: v.TAPEDECK_CLIP_WEBHOOK_SECRET,
    clipWebhookTimeoutMs: v.TAPEDECK_CLIP_WEBHOOK_TIMEOUT_MS,
    streamKeyCipher: v.TAPEDECK_STREAM_KEY_SECRET,
  });
  if (c.clipWebhookUrl && !c.clipWebhookSecret) {
    throw new ConfigError(['TAPEDECK_CLIP_WEBHOOK_SECRET: required when TAPEDECK_CLIP_WEBHOOK_URL is set (webhook bodies are always signed)']);
  }
  const workerId = c.workerId ?? hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  const mediaCapacityCores = c.mediaCapacityCores ?? Math.round(cpus().length * 0.8 * 100) / 100;
  return Object.freeze({ ...c, temporal: temporalConnectOptions(c), workerId, mediaCapacityCores, spoolDir: resolve(c.spoolDir), clipWorkDir: resolve(c.clipWorkDir), mediaTaskQueue: mediaTaskQueue(workerId) });
}

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

/** The worker-specific task queue of a media worker: everything touching its disk runs there. */
export function mediaTaskQueue(workerId: string): string {
  return `tapedeck-media-${workerId}`;
}
