// The media registry: one long-lived workflow (id `tapedeck/media-registry`) that media workers
// report their free capacity to every few seconds (signal-with-start). Placement reads it to pick
// the worker with the most room; stale reports (a worker that stopped reporting) are ignored.
import { allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, setHandler, workflowInfo } from '@temporalio/workflow';

export const MEDIA_REGISTRY_ID = 'tapedeck/media-registry';

export interface MediaWorkerReport {
  workerId: string;
  taskQueue: string;
  capacityCores: number;
  usedCores: number;
  recordings: number;
  draining: boolean;
  reportedAt: string;
}

export const mediaWorkerReportSignal = defineSignal<[MediaWorkerReport]>('mediaWorkerReport');
export const mediaWorkersQuery = defineQuery<MediaWorkerReport[]>('mediaWorkers');

/** Reports older than this are dropped when the registry continues as new. */
const FORGET_AFTER_MS = 10 * 60_000;
const SIGNALS_PER_RUN = 2000;

export async function mediaRegistry(carried: MediaWorkerReport[] = []): Promise<void> {
  const workers = new Map(carried.map((r) => [r.workerId, r]));
  let signals = 0;
  setHandler(mediaWorkerReportSignal, (report) => {
    workers.set(report.workerId, report);
    signals += 1;
  });
  setHandler(mediaWorkersQuery, () => [...workers.values()]);
  await condition(() => signals >= SIGNALS_PER_RUN || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  const now = Date.now();
  await continueAsNew<typeof mediaRegistry>([...workers.values()].filter((r) => now - Date.parse(r.reportedAt) < FORGET_AFTER_MS));
}
