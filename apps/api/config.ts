// Configuration of the API process, validated once at start-up.
import { temporalConnectOptions } from '../common/clients';
import { loadConfig } from '../common/config';
import type { Env } from '../common/env';
import * as v from '../common/variables';

export function loadApiConfig(env: Env) {
  const c = loadConfig(env, {
    ...v.temporalVariables,
    projectId: v.GOOGLE_CLOUD_PROJECT,
    bucket: v.TAPEDECK_BUCKET,
    storageEmulator: v.STORAGE_EMULATOR_HOST,
    pubsubEmulator: v.PUBSUB_EMULATOR_HOST,
    logLevel: v.TAPEDECK_LOG_LEVEL,
    host: v.TAPEDECK_API_HOST,
    port: v.TAPEDECK_API_PORT,
    tokens: v.TAPEDECK_API_TOKENS,
    healthTimeoutMs: v.TAPEDECK_HEALTH_TIMEOUT_MS,
    taskQueue: v.TAPEDECK_TASK_QUEUE,
    backendTimeoutMs: v.TAPEDECK_API_BACKEND_TIMEOUT_MS,
    bodyLimitKb: v.TAPEDECK_API_BODY_LIMIT_KB,
    snippetSeconds: v.TAPEDECK_SNIPPET_SECONDS,
    clipsTaskQueue: v.TAPEDECK_CLIPS_TASK_QUEUE,
    clipMaxSeconds: v.TAPEDECK_CLIP_MAX_SECONDS,
    clipWaitSeconds: v.TAPEDECK_CLIP_WAIT_SECONDS,
    clipUrlTtlSeconds: v.TAPEDECK_CLIP_URL_TTL_SECONDS,
    streamKeyCipher: v.TAPEDECK_STREAM_KEY_SECRET,
  });
  return Object.freeze({ ...c, temporal: temporalConnectOptions(c) });
}

export type ApiConfig = ReturnType<typeof loadApiConfig>;
