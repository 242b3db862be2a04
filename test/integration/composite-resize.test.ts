// A tile resized by a layout change keeps every frame of its camera, also while the compositor
// waits on another pad. Here a host whose camera is on in the recording but sends nothing holds
// every canvas frame to the compositor's deadline, so each of its pads has the mixer's latency
// queued. A resize renegotiates the tile's scaler and everything above it; their allocation
// queries, had they crossed the tile's queue, would have waited behind those frames with the
// decoder's thread, the jitter buffer would have dropped what it held past its latency, and the
// tile would have lost a second or more of its camera at each resize (91 of about 150 frames over
// two resizes; with the queue moved in front of the scaler instead, 104). Real GStreamer, loopback
// RTP from the mock SFU; the tile's videorate counts the frames that reach it and those it repeats
// to fill a hole. See composite.pipeline.ts (v-alloc).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { BranchStats, HostEvent } from '../../pipelines/protocol';
import { LiveSession, type LiveRecording } from '../support/live-session';
import { compositeConfig, hostMedia, sleep } from '../support/recording';

let live: LiveSession | undefined;
after(async () => {
  await live?.cleanup();
});

/** The last stats event's report of a host's camera branch. */
function videoBranch(rec: LiveRecording, hostId: string): BranchStats | undefined {
  const stats = rec.events.filter((e): e is Extract<HostEvent, { type: 'stats' }> => e.type === 'stats');
  return stats[stats.length - 1]?.stats.branches.find((b) => b.hostId === hostId && b.media === 'video');
}

test('a tile resized while the compositor waits on a camera keeps every frame of its own camera', { timeout: 90_000 }, async () => {
  live = await LiveSession.open({ livestreamId: 'ls-resize' });
  const v = hostMedia('v', 'VP8');
  // h's camera is on as far as the recording knows, but its sender sends no video: the compositor
  // waits for that pad to its deadline on every canvas frame, and v's pad holds that much
  const h = hostMedia('h', 'VP8');
  const [, sender] = await live.addHosts([v, h]);
  sender!.sfu.camera('h', false);
  const rec = await live.record((dir) => compositeConfig(dir, [v, h], { snippetSeconds: 4, statsIntervalMs: 500 }));
  await sleep(4000);
  const before = videoBranch(rec, 'v');
  const t0 = Date.now();
  assert.ok(before && before.framesIn > 45, `v's camera flows: ${JSON.stringify(before)}`);

  // v's tile: half the canvas → all of it → half again; each change renegotiates its scaler
  rec.sup.send({ type: 'set-layout', layout: { kind: 'spotlight', spotlightHostId: 'v' } });
  await sleep(2500);
  rec.sup.send({ type: 'set-layout', layout: { kind: 'grid' } });
  await sleep(3000);
  const afterResize = videoBranch(rec, 'v');
  const seconds = (Date.now() - t0) / 1000;
  await live.stop();
  assert.deepEqual(rec.events.filter((e) => e.type === 'error'), [], 'no errors');

  assert.ok(afterResize, 'v reported after the resizes');
  const frames = afterResize.framesIn - before.framesIn;
  const repeated = afterResize.duplicated - before.duplicated;
  const dropped = afterResize.dropped - before.dropped;
  assert.ok(frames >= 30 * (seconds - 1) * 0.95, `v's camera kept coming: ${frames} frames in ${seconds.toFixed(1)} s (${dropped} dropped, ${repeated} repeated)`);
  assert.ok(repeated <= 1, `v's tile repeated ${repeated} frames to fill a hole in its camera's input`);
  assert.ok(dropped <= 2, `v's branch dropped ${dropped} frames or packets`);
});
