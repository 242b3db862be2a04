// Builds the Temporal workers of one Tapedeck worker process: the control role (workflows and
// control activities on the shared queue) and/or the media role (activities on this worker's own
// queue). main.ts runs them; tests build them against their own Temporal server.
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createControlActivities, createMediaActivities } from '../../activities';
import { MediaCapacity } from '../../activities/capacity';
import type { ShipActivityDeps } from '../../activities/ship/ship.activity';
import type { MediaRuntime } from '../../activities/media/media-runtime';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  roles: ReadonlyArray<'control' | 'media'>;
  controlTaskQueue: string;
  mediaTaskQueue: string;
  identity: string;
  shutdownGraceMs: number;
  /** Client for activities that talk to Temporal (placement reads the media registry). */
  client: Client;
  placementFreshMs: number;
  capacity: MediaCapacity;
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Replaces the media activities (tests with the media role faked out). */
  mediaActivities?: object;
  /** Long-running recording and shipping activities each hold a slot for their whole life. */
  maxConcurrentActivities?: number;
  /** Real clients for the media role's shipping activity (main.ts builds them from config). */
  ship?: ShipActivityDeps;
  /** The media role's ingest and recordings (main.ts builds it from config). */
  media?: { runtime: MediaRuntime; spoolRoot: string };
  /** Clip activities, served by the media role on the shared clips queue (any media worker can
   *  merge any clip: they need the bucket, not a spool). */
  clips?: { taskQueue: string; activities: object };
}

export interface RunningWorkers {
  workers: Worker[];
  taskQueues: string[];
  /** Resolves when every worker has stopped; rejects with the first fatal error. */
  run(): Promise<void>;
  shutdown(): void;
}

let cachedBundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles workflows/ once per process (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  cachedBundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never,
  });
  return cachedBundle;
}

export async function createWorkers(setup: WorkerSetup): Promise<RunningWorkers> {
  const workers: Worker[] = [];
  const identity = { workerIdentity: setup.identity };
  const common = {
    connection: setup.connection,
    namespace: setup.namespace,
    identity: setup.identity,
    shutdownGraceTime: setup.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivities ?? 2000,
  };
  if (setup.roles.includes('control')) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: setup.controlTaskQueue,
        workflowBundle: setup.workflowBundle ?? (await workflowBundle()),
        activities: createControlActivities({ ...identity, client: setup.client, placementFreshMs: setup.placementFreshMs }),
      }),
    );
  }
  if (setup.roles.includes('media')) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: setup.mediaTaskQueue,
        activities: setup.mediaActivities ?? createMediaActivities({ ...identity, capacity: setup.capacity, ...(setup.ship ? { ship: setup.ship } : {}), ...(setup.media ? { media: setup.media } : {}) }),
      }),
    );
  }
  if (setup.roles.includes('media') && setup.clips) {
    workers.push(await Worker.create({ ...common, taskQueue: setup.clips.taskQueue, activities: setup.clips.activities }));
  }
  const taskQueues = workers.map((w) => w.options.taskQueue);
  return {
    workers,
    taskQueues,
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
