// The media activities of one media worker (they all run on its own task queue): ingest,
// recording, live composite changes, stop, and shipping of each recording run's spool folder.
import { Context } from '@temporalio/activity';
import type { MediaActivities } from '../contracts';
import type { createShipActivities } from '../ship/ship.activity';
import { MediaRuntime, runFolder } from './media-runtime';

type ShipActivities = ReturnType<typeof createShipActivities>;

export function createRecordingActivities(runtime: MediaRuntime, spoolRoot: string, ship: ShipActivities | undefined): Omit<MediaActivities, 'reserveCapacity' | 'releaseLivestream'> & Pick<MediaActivities, 'releaseLivestream'> {
  const workflowId = () => Context.current().info.workflowExecution!.workflowId;
  return {
    openIngest: (input) => runtime.openIngest(input.livestreamId, input.host, input.previous),
    closeIngest: (input) => runtime.closeIngest(input.livestreamId, input.hostId),
    record: (input) => runtime.record(input, Context.current()),
    applyComposite: (input) => runtime.applyComposite(input.livestreamId, input.recordingId, input.desired),
    stopRecording: (input) => runtime.stopRecording(input.livestreamId, input.recordingId, workflowId(), input.reason),
    releaseLivestream: (input) => runtime.releaseLivestream(input.livestreamId),
    shipRecording: async (input) => {
      if (!ship) throw new Error('shipping is not configured on this worker');
      const hostId = input.recordingId.startsWith('host-') ? input.recordingId.slice('host-'.length) : undefined;
      const result = await ship.shipRecording({
        livestreamId: input.livestreamId,
        recordingId: input.recordingId,
        spoolDir: runFolder(spoolRoot, input.livestreamId, input.recordingId, workflowId()),
        ...(hostId ? { hostId } : {}),
      });
      return { shipped: result.shipped };
    },
  };
}
