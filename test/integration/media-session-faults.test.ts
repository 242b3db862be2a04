// Packet loss and reordering end to end: the mock SFU drops 5% and reorders 5% of the RTP packets
// of every host (seeded), the MediaSession's ingests forward what arrives, and the composite and an
// individual VP8 recording (running at the same time, fed by the same ingest) still give playable
// snippets of the configured length.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { HostEvent } from '../../pipelines/protocol';
import { discover } from '../support/frames';
import { LiveSession } from '../support/live-session';
import { decodeErrors, firstVideoFrameIsKey, probe } from '../support/media';
import { compositeConfig, hostMedia, individualConfig, sleep } from '../support/recording';

let live: LiveSession | undefined;
after(async () => {
  await live?.cleanup();
});

const SNIPPET = 3;

function checkSnippets(name: string, closed: Array<Extract<HostEvent, { type: 'fragment-closed' }>>, frame: number, fps: string): void {
  assert.ok(closed.length >= 3, `${name}: at least three snippets (${closed.length})`);
  for (const [i, s] of closed.entries()) {
    const p = probe(s.location);
    const v = p.streams.find((x) => x.codec_type === 'video');
    const a = p.streams.find((x) => x.codec_type === 'audio');
    assert.ok(v && a, `${name} snippet ${i} has video and audio`);
    assert.equal(v.codec_name, 'h264');
    assert.equal(a.codec_name, 'aac');
    assert.equal(v.avg_frame_rate, fps, `${name} snippet ${i} frame rate`);
    assert.ok(firstVideoFrameIsKey(s.location), `${name} snippet ${i} starts with a keyframe`);
    assert.equal(decodeErrors(s.location), '', `${name} snippet ${i} decodes without an error`);
    discover(s.location);
    const vd = Number(v.duration);
    if (i < closed.length - 1) {
      assert.ok(Math.abs(vd - SNIPPET) <= frame, `${name} snippet ${i} is ${SNIPPET} s within one frame (${vd})`);
      // An individual recording's audio starts with its first video frame or after it (the audio
      // gate, builders/common.ts AUDIO_GATE): the first snippet's audio may start late by as much
      // as the video reached the sink later than audio of the same time (tens of milliseconds),
      // never early.
      const ad = Number(a.duration);
      if (i === 0) {
        assert.ok(Number(a.start_time) >= Number(v.start_time) - 0.001, `${name} snippet 0 audio starts at ${a.start_time} s, not before video at ${v.start_time} s`);
        assert.ok(ad >= SNIPPET - 0.5 && ad <= SNIPPET + frame, `${name} snippet 0 audio (${ad})`);
      } else assert.ok(Math.abs(ad - SNIPPET) <= frame, `${name} snippet ${i} audio is ${SNIPPET} s within one frame (${ad})`);
    } else {
      assert.ok(vd > 0 && vd <= SNIPPET + frame, `${name} last snippet (${vd} s)`);
    }
  }
}

test('5% loss and 5% reordering: composite and individual VP8 snippets stay playable and on length', { timeout: 120_000 }, async (t) => {
  live = await LiveSession.open({ livestreamId: 'ls-faults', sender: { faults: { loss: 0.05, reorder: 0.05, seed: 11 } } });
  const a = hostMedia('a', 'VP8');
  const b = hostMedia('b', 'H264');
  await live.addHost(a);
  await live.addHost(b, { faults: { loss: 0.05, reorder: 0.05, seed: 12 } });
  const comp = await live.record((dir) => compositeConfig(dir, [a, b], { snippetSeconds: SNIPPET }));
  const ind = await live.record((dir) => individualConfig(dir, a, 'av', { snippetSeconds: SNIPPET }));
  await sleep(11_000);
  const ingest = live.session.stats();
  const sent = live.hosts.get('a')!.sfu.stats()['a']!;
  await live.stop();

  // the faults really happened and the ingest saw them
  assert.ok(sent.video.dropped > 20 && sent.video.reordered > 20, `faults injected: ${JSON.stringify(sent.video)}`);
  const ia = ingest.find((s) => s.hostId === 'a')!;
  assert.ok(ia.video.lost > 0 && ia.video.reordered > 0, `ingest counted loss and reordering: ${JSON.stringify(ia.video)}`);
  assert.deepEqual([...ia.subscribers].sort(), [comp.config.recordingId, ind.config.recordingId].sort(), 'one ingest feeds both recordings');

  for (const r of [comp, ind]) {
    const fatal = r.events.filter((e) => e.type === 'error' && e.fatal);
    assert.deepEqual(fatal, [], `${r.config.recordingId}: no fatal error`);
    const stopped = r.events.find((e) => e.type === 'stopped');
    assert.ok(stopped?.type === 'stopped' && !stopped.forced, `${r.config.recordingId} stopped cleanly`);
  }
  // stats: the transcoded individual recording counts its output frames like the composite
  const lastStats = (r: typeof comp) => [...r.events].reverse().find((e): e is Extract<HostEvent, { type: 'stats' }> => e.type === 'stats')!.stats;
  const indStats = lastStats(ind);
  // (counts, not rates: the machine is shared, so no wall-clock speed is asserted). With 5% loss a
  // whole stats interval can pass without a decodable frame (a lost keyframe), so the fps of the
  // last interval may be 0: some interval had frames out.
  const fpsOut = ind.events.flatMap((e) => (e.type === 'stats' ? [e.stats.fpsOut] : []));
  assert.ok(indStats.framesOut > 150 && Math.max(...fpsOut) > 0, `individual output frames ${indStats.framesOut}, ${fpsOut.map((f) => f.toFixed(1)).join(' ')} fps`);
  const vIn = indStats.branches.find((b) => b.media === 'video')!;
  // with 5% loss the depayloader drops every frame after a loss until the next keyframe (1 s GOP):
  // far fewer frames come in than go out (videorate repeats the last good one)
  assert.ok(vIn.framesIn > 0 && vIn.framesIn < indStats.framesOut, `individual video input ${vIn.framesIn} frames, ${vIn.fpsIn.toFixed(1)} fps`);
  t.diagnostic(JSON.stringify({ individual: { framesOut: indStats.framesOut, fpsOut: indStats.fpsOut, framesIn: vIn.framesIn }, ingestVideo: ia.video }));
  checkSnippets('composite', comp.closed(), 1 / 15, '15/1');
  checkSnippets('individual', ind.closed(), 1 / 30, '30/1');
});
