// Configuration of the moderator process (the reference scorer), validated once at start-up.
import { loadConfig } from '../common/config';
import type { Env } from '../common/env';
import * as v from '../common/variables';

export function loadModeratorConfig(env: Env) {
  return Object.freeze(
    loadConfig(env, {
      projectId: v.GOOGLE_CLOUD_PROJECT,
      bucket: v.TAPEDECK_BUCKET,
      storageEmulator: v.STORAGE_EMULATOR_HOST,
      pubsubEmulator: v.PUBSUB_EMULATOR_HOST,
      logLevel: v.TAPEDECK_LOG_LEVEL,
      apiUrl: v.TAPEDECK_API_URL,
      apiToken: v.TAPEDECK_API_TOKEN,
      host: v.TAPEDECK_MODERATOR_HTTP_HOST,
      httpPort: v.TAPEDECK_MODERATOR_HTTP_PORT,
      subscription: v.TAPEDECK_MODERATOR_SUBSCRIPTION,
      threshold: v.TAPEDECK_MODERATOR_THRESHOLD,
      clipMarginSeconds: v.TAPEDECK_MODERATOR_CLIP_MARGIN_SECONDS,
      analysisTimeoutMs: v.TAPEDECK_MODERATOR_ANALYSIS_TIMEOUT_MS,
      concurrency: v.TAPEDECK_MODERATOR_CONCURRENCY,
    }),
  );
}

export type ModeratorConfig = ReturnType<typeof loadModeratorConfig>;
