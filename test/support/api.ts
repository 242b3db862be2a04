// The API on free loopback ports for HTTP tests: a real Temporal dev server with the project's
// worker (media role faked out, test/support/fake-media.ts), the GCS and Pub/Sub emulators, and
// the Nest app from apps/api/app.ts built on them with test tokens.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { MediaCapacity } from '../../activities/capacity';
import { createClipActivities, type ClipWebhookConfig } from '../../activities/clips/clip.activities';
import { startRegistryReporter } from '../../activities/registry-reporter';
import { createApiApp } from '../../apps/api/app';
import { loadApiConfig } from '../../apps/api/config';
import { createLogger } from '../../apps/common/logger';
import { createWorkers, type RunningWorkers } from '../../apps/worker/worker';
import { resolveTool } from '../../infra/stack/tools';
import { TEST_BUCKET, TEST_PROJECT, startTestCloud, type TestCloud } from './cloud';
import { testEnv } from './env';
import { FakeMedia } from './fake-media';

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
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: resolveTool('temporal', testEnv.PATH) }, ip: '127.0.0.1', ui: false },
  });
  const cloud = await startTestCloud();
  const media = new FakeMedia();
  const mediaQueue = `${opts.controlTaskQueue}-media-fake`;
  const capacity = new MediaCapacity(opts.capacityCores ?? 1.6);
  let workers: RunningWorkers | undefined;
  let running: Promise<void> | undefined;
  let reporter: { stop(d: boolean): Promise<void> } | undefined;
  let app: INestApplication | undefined;
  const clipsQueue = `${opts.controlTaskQueue}-clips`;
  const clipWorkDir = mkdtempSync(join(tmpdir(), 'tapedeck-clips-'));
  try {
    const clips = opts.clips
      ? createClipActivities({ storage: cloud.storage, pubsub: cloud.pubsub, bucket: TEST_BUCKET, logger: createLogger('clips-test', 'warn'), workDir: clipWorkDir, ...(opts.clips.webhook ? { webhook: opts.clips.webhook } : {}) })
      : undefined;
    workers = await createWorkers({
      ...(clips ? { clips: { taskQueue: clipsQueue, activities: clips } } : {}),
      connection: env.nativeConnection,
      namespace: 'default',
      roles: ['control', 'media'],
      controlTaskQueue: opts.controlTaskQueue,
      mediaTaskQueue: mediaQueue,
      identity: 'api-test',
      shutdownGraceMs: 1000,
      client: env.client,
      placementFreshMs: 30_000,
      capacity,
      mediaActivities: media.activities(),
    });
    running = workers.run();
    reporter = startRegistryReporter({ client: env.client, controlTaskQueue: opts.controlTaskQueue, workerId: 'fake-1', taskQueue: mediaQueue, capacity, intervalMs: 1000 });
    await (reporter as unknown as { reportNow(): Promise<void> }).reportNow();

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
    app = await createApiApp({ config, logger: createLogger('tapedeck-api-test', 'warn'), temporal: env.connection, storage: cloud.storage, pubsub: cloud.pubsub });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const a = app;
    return {
      url: `http://127.0.0.1:${port}`,
      app: a,
      env,
      cloud,
      media,
      async close() {
        await a.close();
        await reporter?.stop(true);
        workers?.shutdown();
        await running;
        await cloud.close();
        await env.teardown();
        rmSync(clipWorkDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await app?.close();
    await reporter?.stop(true);
    workers?.shutdown();
    await running?.catch(() => undefined);
    await cloud.close();
    await env.teardown();
    rmSync(clipWorkDir, { recursive: true, force: true });
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
