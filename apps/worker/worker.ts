// Builds the Temporal workers of one Tapedeck worker process: the control role (workflows and
// control activities on the shared queue) and/or the media role (activities on this worker's own
// queue). main.ts runs them; tests build them against their own Temporal server.
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createControlActivities, createMediaActivities } from '../../activities';
import type { ShipActivityDeps } from '../../activities/ship/ship.activity';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  roles: ReadonlyArray<'control' | 'media'>;
  controlTaskQueue: string;
  mediaTaskQueue: string;
  identity: string;
  shutdownGraceMs: number;
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Real clients for the media role's shipping activity (main.ts builds them from config). */
  ship?: ShipActivityDeps;
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
  const deps = { workerIdentity: setup.identity };
  const common = {
    connection: setup.connection,
    namespace: setup.namespace,
    identity: setup.identity,
    shutdownGraceTime: setup.shutdownGraceMs,
  };
  if (setup.roles.includes('control')) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: setup.controlTaskQueue,
        workflowBundle: setup.workflowBundle ?? (await workflowBundle()),
        activities: createControlActivities(deps),
      }),
    );
  }
  if (setup.roles.includes('media')) {
    workers.push(
      await Worker.create({ ...common, taskQueue: setup.mediaTaskQueue, activities: createMediaActivities({ ...deps, ...(setup.ship ? { ship: setup.ship } : {}) }) }),
    );
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
