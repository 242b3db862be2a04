// Test-only workflow that runs the shipRecording activity the way a recording workflow would:
// on the media task queue, with a heartbeat timeout and retries.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { ShipRecordingInput, ShipRecordingResult } from '../../activities/ship/ship.activity';

const { shipRecording } = proxyActivities<{ shipRecording(input: ShipRecordingInput): Promise<ShipRecordingResult> }>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '5 seconds',
  // Cancelling waits until the shipper has finished its snippet in flight and stopped.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '500 milliseconds', maximumInterval: '2 seconds', maximumAttempts: 10 },
});

export async function shipRecordingTest(input: ShipRecordingInput): Promise<ShipRecordingResult> {
  return shipRecording(input);
}
