// A real Temporal dev server with the project's workers on it and the media role faked out
// (test/support/fake-media.ts), registered in the media registry so livestreams can be placed.
// For tests of workflow logic and of the API without GStreamer.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { MediaCapacity } from '../../activities/capacity';
import { startRegistryReporter } from '../../activities/registry-reporter';
import { createWorkers, type RunningWorkers, type WorkerSetup } from '../../apps/worker/worker';
import { resolveTool } from '../../infra/stack/tools';
import { testEnv } from './env';
import { FakeMedia } from './fake-media';

export interface FakeMediaTemporal {
  env: TestWorkflowEnvironment;
  media: FakeMedia;
  mediaTaskQueue: string;
  close(): Promise<void>;
}

export async function startFakeMediaTemporal(opts: {
  controlTaskQueue: string;
  mediaTaskQueue: string;
  capacityCores?: number;
  /** Extra `temporal server start-dev` arguments (dynamic config, for instance). */
  serverArgs?: string[];
  /** Clip activities to run on their own queue beside the fake media. */
  clips?: WorkerSetup['clips'];
}): Promise<FakeMediaTemporal> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTool('temporal', testEnv.PATH) },
      ip: '127.0.0.1',
      ui: false,
      ...(opts.serverArgs ? { extraArgs: opts.serverArgs } : {}),
    },
  });
  const media = new FakeMedia();
  const capacity = new MediaCapacity(opts.capacityCores ?? 1.6);
  let workers: RunningWorkers | undefined;
  let running: Promise<void> | undefined;
  let reporter: { stop(d: boolean): Promise<void> } | undefined;
  const close = async () => {
    await reporter?.stop(true);
    workers?.shutdown();
    await running?.catch(() => undefined);
    await env.teardown();
  };
  try {
    workers = await createWorkers({
      ...(opts.clips ? { clips: opts.clips } : {}),
      connection: env.nativeConnection,
      namespace: 'default',
      roles: ['control', 'media'],
      controlTaskQueue: opts.controlTaskQueue,
      mediaTaskQueue: opts.mediaTaskQueue,
      identity: 'fake-media-test',
      shutdownGraceMs: 1000,
      client: env.client,
      placementFreshMs: 30_000,
      capacity,
      mediaActivities: media.activities(),
    });
    running = workers.run();
    const r = startRegistryReporter({ client: env.client, controlTaskQueue: opts.controlTaskQueue, workerId: 'fake-1', taskQueue: opts.mediaTaskQueue, capacity, intervalMs: 1000 });
    reporter = r;
    await r.reportNow();
    return { env, media, mediaTaskQueue: opts.mediaTaskQueue, close };
  } catch (e) {
    await close();
    throw e;
  }
}
