// Real snippets in the bucket for clip tests: encoded with the GStreamer elements the pipeline host
// uses (test/support/snippets.ts) or cut from one recording by splitmuxsink as the pipeline host
// does, given back-to-back wall-clock times, and shipped by the real shipper (rename → upload →
// publish) into the emulators, exactly as a recording would leave them.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { trackSpans } from '../../activities/clips/mp4-spans';
import { RecordingShipper } from '../../activities/ship/shipper';
import { createLogger } from '../../apps/common/logger';
import { audioPatternSource, videoPatternFilter } from '../../apps/mock-sfu/media';
import { FINISHED_MARKER_FILE, partFileName } from '../../pipelines/spool';
import { TEST_BUCKET, type TestCloud } from './cloud';
import { closeSnippet, gstLaunch, writeSnippet, type SnippetSpec } from './snippets';

const run = promisify(execFile);

export interface Recording {
  livestreamId: string;
  recordingId: string;
  hostId?: string;
}

export interface ShippedItem {
  variant: 'av' | 'audio';
  seconds: number;
  start: Date;
}

/** Writes the items as snippets firstSequence.. of one recording and ships them; resolves when all
 *  are in the bucket and announced. */
export async function shipSnippets(
  cloud: TestCloud,
  spoolRoot: string,
  rec: Recording,
  items: ShippedItem[],
  firstSequence = 0,
): Promise<void> {
  const dir = join(spoolRoot, rec.livestreamId, rec.recordingId);
  mkdirSync(dir, { recursive: true });
  for (const [i, it] of items.entries()) {
    await writeSnippet(dir, { ...specOf(rec, firstSequence + i, it.seconds, it.start), variant: it.variant, encoder: 'gstreamer' });
  }
  await shipSpool(cloud, dir, rec, items.length);
}

/**
 * One continuous recording of the flash+beep pattern (drawn by ffmpeg), encoded and cut the way
 * the pipeline host does it: x264enc (a keyframe every second) and avenc_aac into splitmuxsink
 * with mp4mux, so later snippets continue the same audio stream (no AAC priming of their own,
 * audio starting a fraction of a frame late). Shipped as `count` snippets from `start`.
 */
export async function shipRecordedPattern(cloud: TestCloud, spoolRoot: string, rec: Recording, count: number, seconds: number, start: Date): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tapedeck-recorded-'));
  try {
    const y4m = join(work, 'v.y4m');
    const wav = join(work, 'a.wav');
    const total = count * seconds;
    await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', videoPatternFilter('clip', '#204080', 640, 360, 15, total), '-pix_fmt', 'yuv420p', y4m], { timeout: 60_000 });
    await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', audioPatternSource(total, 44100), '-ac', '1', wav], { timeout: 60_000 });
    const parts = Array.from({ length: count }, (_, i) => join(work, `part${String(i).padStart(6, '0')}.mp4`));
    // Finished when every part has its index and they add up to the recording.
    const finished = async () => {
      try {
        const spans = await Promise.all(parts.map((p) => trackSpans(p)));
        return Math.abs(spans.reduce((a, sp) => a + (sp.video?.end ?? 0), 0) - total) < 0.1;
      } catch {
        return false;
      }
    };
    await gstLaunch(
      `filesrc location=${y4m} ! y4mdec ! videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=ultrafast key-int-max=15 ! h264parse ! ` +
        `splitmuxsink name=mux muxer=mp4mux max-size-time=${seconds * 1e9} location=${join(work, 'part%06d.mp4')} ` +
        `filesrc location=${wav} ! wavparse ! audioconvert ! avenc_aac ! aacparse ! mux.audio_0`,
      finished,
    );
    const dir = join(spoolRoot, rec.livestreamId, rec.recordingId);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < count; i++) {
      const part = join(dir, partFileName(i, 'mp4'));
      renameSync(parts[i]!, part);
      closeSnippet(dir, { ...specOf(rec, i, seconds, new Date(start.getTime() + i * seconds * 1000)), variant: 'av' }, part);
    }
    await shipSpool(cloud, dir, rec, count);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function specOf(rec: Recording, sequence: number, seconds: number, startTime: Date): SnippetSpec {
  return {
    livestreamId: rec.livestreamId,
    recordingId: rec.recordingId,
    ...(rec.hostId ? { hostId: rec.hostId, kind: 'individual' as const } : { kind: 'composite' as const }),
    sequence,
    seconds,
    startTime,
  };
}

async function shipSpool(cloud: TestCloud, dir: string, rec: Recording, count: number): Promise<void> {
  writeFileSync(join(dir, `.${FINISHED_MARKER_FILE}.tmp`), JSON.stringify({ finishedAt: new Date().toISOString(), lastSequence: count - 1 }));
  renameSync(join(dir, `.${FINISHED_MARKER_FILE}.tmp`), join(dir, FINISHED_MARKER_FILE));
  const shipper = new RecordingShipper(
    { livestreamId: rec.livestreamId, recordingId: rec.recordingId, spoolDir: dir, ...(rec.hostId ? { hostId: rec.hostId } : {}) },
    { storage: cloud.storage, pubsub: cloud.pubsub, bucket: TEST_BUCKET, clock: Date.now, logger: createLogger('clip-snippets', 'silent'), options: { rescanMs: 500, backoffInitialMs: 200, backoffMaxMs: 2000 } },
  );
  const status = await shipper.run({ untilFinished: true });
  if (status.shipped !== count) throw new Error(`shipped ${status.shipped} of ${count} snippets: ${JSON.stringify(status.warnings)}`);
}
