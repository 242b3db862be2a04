// The API on free loopback ports for HTTP tests: a real Temporal dev server with the project's
// worker (media role faked out, test/support/fake-media.ts), the GCS and Pub/Sub emulators, and
// the Nest app from apps/api/app.ts built on them with test tokens.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createClipActivities, type ClipWebhookConfig } from '../../activities/clips/clip.activities';
import { createApiApp } from '../../apps/api/app';
import { loadApiConfig } from '../../apps/api/config';
import { createLogger } from '../../apps/common/logger';
import { TEST_BUCKET, TEST_PROJECT, startTestCloud, type TestCloud } from './cloud';
import type { FakeMedia } from './fake-media';
import { startFakeMediaTemporal, type FakeMediaTemporal } from './fake-media-temporal';

export const TOKENS = {
  service: 'svc-token-0123456789abcdef',
  reviewer: 'rev-token-0123456789abcdef',
  moderation: 'mod-token-0123456789abcdef',
};
export const TOKENS_ENV = `livestream-service:${TOKENS.service},reviewer:${TOKENS.reviewer},moderation:${TOKENS.moderation}`;

export interface ApiUnderTest {
  url: string;
  app: INestApplication;
  env: TestWorkflowEnvironment;
  cloud: TestCloud;
  media: FakeMedia;
  close(): Promise<void>;
}

export interface ApiTestOptions {
  controlTaskQueue: string;
  capacityCores?: number;
  /** Runs the real clip activities (on `${controlTaskQueue}-clips`) against the emulators. */
  clips?: { webhook?: ClipWebhookConfig };
  /** More API variables (TAPEDECK_CLIP_*, ...). */
  env?: Record<string, string>;
}

export async function startApiUnderTest(opts: ApiTestOptions): Promise<ApiUnderTest> {
  const clipsQueue = `${opts.controlTaskQueue}-clips`;
  const clipWorkDir = mkdtempSync(join(tmpdir(), 'tapedeck-clips-'));
  let cloud: TestCloud | undefined;
  let temporal: FakeMediaTemporal | undefined;
  let app: INestApplication | undefined;
  const close = async () => {
    await app?.close();
    await temporal?.close();
    await cloud?.close();
    rmSync(clipWorkDir, { recursive: true, force: true });
  };
  try {
    cloud = await startTestCloud();
    const clips = opts.clips
      ? createClipActivities({ storage: cloud.storage, pubsub: cloud.pubsub, bucket: TEST_BUCKET, logger: createLogger('clips-test', 'warn'), workDir: clipWorkDir, ...(opts.clips.webhook ? { webhook: opts.clips.webhook } : {}) })
      : undefined;
    temporal = await startFakeMediaTemporal({
      controlTaskQueue: opts.controlTaskQueue,
      mediaTaskQueue: `${opts.controlTaskQueue}-media-fake`,
      ...(opts.capacityCores !== undefined ? { capacityCores: opts.capacityCores } : {}),
      ...(clips ? { clips: { taskQueue: clipsQueue, activities: clips } } : {}),
    });
    const config = loadApiConfig({
      TAPEDECK_API_TOKENS: TOKENS_ENV,
      TAPEDECK_TASK_QUEUE: opts.controlTaskQueue,
      TAPEDECK_BUCKET: TEST_BUCKET,
      GOOGLE_CLOUD_PROJECT: TEST_PROJECT,
      TAPEDECK_API_BACKEND_TIMEOUT_MS: '15000',
      TAPEDECK_LOG_LEVEL: 'warn',
      TAPEDECK_CLIPS_TASK_QUEUE: clipsQueue,
      ...(opts.env ?? {}),
    });
    app = await createApiApp({ config, logger: createLogger('tapedeck-api-test', 'warn'), temporal: temporal.env.connection, storage: cloud.storage, pubsub: cloud.pubsub });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, app, env: temporal.env, cloud, media: temporal.media, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** One HTTP call: JSON body (or raw text with its own content type), bearer token, bounded. */
export async function call(
  url: string,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = opts.contentType ?? 'application/json';
  } else if (opts.raw !== undefined) {
    body = opts.raw;
    if (opts.contentType) headers['content-type'] = opts.contentType;
  }
  const res = await fetch(`${url}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
