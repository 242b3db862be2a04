// Real snippets in the bucket for clip tests: encoded with the GStreamer elements the pipeline host
// uses (test/support/snippets.ts), given back-to-back wall-clock times, and shipped by the real
// shipper (rename → upload → publish) into the emulators, exactly as a recording would leave them.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordingShipper } from '../../activities/ship/shipper';
import { createLogger } from '../../apps/common/logger';
import { FINISHED_MARKER_FILE } from '../../pipelines/spool';
import { TEST_BUCKET, type TestCloud } from './cloud';
import { writeSnippet, type Encoder } from './snippets';

export interface ShippedItem {
  variant: 'av' | 'audio';
  seconds: number;
  start: Date;
  encoder?: Encoder;
}

/** Writes the items as snippets 0..n-1 of one recording and ships them; resolves when all are in
 *  the bucket and announced. */
export async function shipSnippets(
  cloud: TestCloud,
  spoolRoot: string,
  rec: { livestreamId: string; recordingId: string; hostId?: string },
  items: ShippedItem[],
): Promise<void> {
  const dir = join(spoolRoot, rec.livestreamId, rec.recordingId);
  mkdirSync(dir, { recursive: true });
  for (const [sequence, it] of items.entries()) {
    await writeSnippet(dir, {
      livestreamId: rec.livestreamId,
      recordingId: rec.recordingId,
      ...(rec.hostId ? { hostId: rec.hostId, kind: 'individual' as const } : { kind: 'composite' as const }),
      variant: it.variant,
      sequence,
      seconds: it.seconds,
      startTime: it.start,
      encoder: it.encoder ?? 'gstreamer',
    });
  }
  writeFileSync(join(dir, `.${FINISHED_MARKER_FILE}.tmp`), JSON.stringify({ finishedAt: new Date().toISOString(), lastSequence: items.length - 1 }));
  renameSync(join(dir, `.${FINISHED_MARKER_FILE}.tmp`), join(dir, FINISHED_MARKER_FILE));
  const shipper = new RecordingShipper(
    { livestreamId: rec.livestreamId, recordingId: rec.recordingId, spoolDir: dir, ...(rec.hostId ? { hostId: rec.hostId } : {}) },
    { storage: cloud.storage, pubsub: cloud.pubsub, bucket: TEST_BUCKET, clock: Date.now, logger: createLogger('clip-snippets', 'silent'), options: { rescanMs: 500, backoffInitialMs: 200, backoffMaxMs: 2000 } },
  );
  const status = await shipper.run({ untilFinished: true });
  if (status.shipped !== items.length) throw new Error(`shipped ${status.shipped} of ${items.length} snippets: ${JSON.stringify(status.warnings)}`);
}
