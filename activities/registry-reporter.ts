// A media worker reports its free capacity to the media registry workflow every few seconds
// (signal-with-start, so the registry exists as soon as one worker does).
import type { Client } from '@temporalio/client';
import { MEDIA_REGISTRY_ID, mediaRegistry, mediaWorkerReportSignal } from '../workflows/media-registry.workflow';
import type { MediaCapacity } from './capacity';

export interface ReporterOptions {
  client: Client;
  controlTaskQueue: string;
  workerId: string;
  taskQueue: string;
  capacity: MediaCapacity;
  intervalMs: number;
  onError?: (e: unknown) => void;
}

export function startRegistryReporter(opts: ReporterOptions): { reportNow(draining?: boolean): Promise<void>; stop(draining: boolean): Promise<void> } {
  const report = async (draining = false) => {
    const snap = opts.capacity.snapshot();
    await opts.client.workflow.signalWithStart(mediaRegistry, {
      workflowId: MEDIA_REGISTRY_ID,
      taskQueue: opts.controlTaskQueue,
      args: [[]],
      signal: mediaWorkerReportSignal,
      signalArgs: [
        {
          workerId: opts.workerId,
          taskQueue: opts.taskQueue,
          capacityCores: snap.capacityCores,
          usedCores: snap.usedCores,
          recordings: snap.recordings,
          draining,
          reportedAt: new Date().toISOString(),
        },
      ],
    });
  };
  const timer = setInterval(() => void report().catch((e) => opts.onError?.(e)), opts.intervalMs);
  timer.unref();
  return {
    reportNow: report,
    async stop(draining: boolean) {
      clearInterval(timer);
      await report(draining).catch((e) => opts.onError?.(e));
    },
  };
}
