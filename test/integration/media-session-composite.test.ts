// The 15-second contract end to end: mock SFU → MediaSession (one HostIngest per host) → composite
// pipeline, real GStreamer and loopback RTP. Three hosts (VP8 and H.264) for about 40 s with
// 15-second snippets; a fourth host joins at about 20 s and one leaves after the second cut; the
// recording stops with EOS. Two 15 s snippets (within one frame, 1/15 s) and a shorter last one,
// each playable, 640x360@15 H.264 + AAC, back to back; the joined host's tile shows its camera.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { gridTiles, type Tile } from '../../pipelines/layout';
import type { SnippetMetadata } from '../../pipelines/spool';
import { colourDistance, discover, hexToRgb, tileColour, type Rgb } from '../support/frames';
import { LiveSession, TEST_COLOURS } from '../support/live-session';
import { audioWindowPeaksDb, decodeErrors, firstVideoFrameIsKey, probe } from '../support/media';
import { compositeConfig, hostMedia, sleep } from '../support/recording';

let live: LiveSession | undefined;
after(async () => {
  await live?.cleanup();
});

const FRAME = 1 / 15;
const tileOf = (hostIds: string[], hostId: string): Tile => gridTiles(hostIds, 640, 360).find((t) => t.hostId === hostId)!;
/** The test colour nearest to what the tile shows, and how far it is from the expected one. */
function nearest(seen: Rgb): string {
  return [...TEST_COLOURS].sort((a, b) => colourDistance(hexToRgb(a), seen) - colourDistance(hexToRgb(b), seen))[0]!;
}

test('composite through the media session: 15 s snippets, a host joining without a gap, one leaving', { timeout: 150_000 }, async () => {
  live = await LiveSession.open({ livestreamId: 'ls-15s' });
  const hosts = [hostMedia('a', 'VP8'), hostMedia('b', 'H264'), hostMedia('c', 'VP8')];
  for (const h of hosts) await live.addHost(h);
  const rec = await live.record((dir) => compositeConfig(dir, hosts, { snippetSeconds: 15, statsIntervalMs: 2000, stopTimeoutMs: 15_000 }));
  const t0 = Date.parse(rec.startedAt);

  await sleep(Math.max(0, t0 + 20_000 - Date.now()));
  const d = await live.join('composite', hostMedia('d', 'VP8'));
  const joinedAt = Date.now();
  assert.deepEqual(live.session.recordingsOf('d'), ['composite'], 'the joined host is forwarded to the composite');

  await rec.sup.next('fragment-closed', 30_000, (e) => e.sequence === 1);
  await live.leave('a');
  const leftAt = Date.now();
  await sleep(Math.max(0, t0 + 40_000 - Date.now()));
  await live.stop();

  const errors = rec.events.filter((e) => e.type === 'error');
  assert.deepEqual(errors, [], 'no streaming errors');
  const snippets = rec.closed();
  assert.equal(snippets.length, 3, `two 15 s snippets and the last one: ${snippets.map((s) => s.durationMs).join(', ')}`);
  const metas = snippets.map((s) => JSON.parse(readFileSync(s.metadataLocation, 'utf8')) as SnippetMetadata);

  for (const [i, s] of snippets.entries()) {
    const p = probe(s.location);
    const v = p.streams.find((x) => x.codec_type === 'video');
    const a = p.streams.find((x) => x.codec_type === 'audio');
    assert.ok(v && a, `snippet ${i} has video and audio`);
    assert.equal(v.codec_name, 'h264');
    assert.equal(a.codec_name, 'aac');
    assert.equal(v.width, 640);
    assert.equal(v.height, 360);
    assert.equal(v.avg_frame_rate, '15/1');
    assert.ok(firstVideoFrameIsKey(s.location), `snippet ${i} starts with a keyframe`);
    assert.equal(decodeErrors(s.location), '', `snippet ${i} decodes without an error`);
    const report = discover(s.location);
    assert.match(report, /video #\d+: H\.264/);
    assert.match(report, /audio #\d+: MPEG-4 AAC/);
    // The hosts beep at the same instants (0.5 each, up to +6 dBFS summed with four): the mix is
    // limited, never clipped. The moderator counts a second peaking at −1 dBFS or above as clipped;
    // after the limiter and the encoder the beeps peak near −3 to −9 dBFS (the encoder's overshoot
    // on their sharp onsets varies beep by beep), so one such second per snippet is allowed,
    // against all of them (one beep a second) without the limiter.
    const windows = audioWindowPeaksDb(s.location);
    const peak = Math.max(...windows);
    const loud = windows.filter((db) => db >= -1);
    assert.ok(peak < 0 && peak > -12, `snippet ${i}: audio peak ${peak} dBFS, below full scale and not silent`);
    assert.ok(loud.length <= 1, `snippet ${i}: ${loud.length} seconds at −1 dBFS or above (${loud.join(', ')})`);
    const vd = Number(v.duration);
    const ad = Number(a.duration);
    if (i < 2) {
      assert.ok(Math.abs(vd - 15) <= FRAME, `snippet ${i} video is 15 s within one frame (${vd})`);
      assert.ok(Math.abs(ad - 15) <= FRAME, `snippet ${i} audio is 15 s within one frame (${ad})`);
      assert.ok(Math.abs(s.durationMs - 15_000) <= FRAME * 1000, `snippet ${i} metadata says 15 s (${s.durationMs} ms)`);
    } else {
      assert.ok(vd > 2 && vd < 15, `the last snippet is shorter (${vd} s)`);
      // The last snippet is cut by EOS, not at a keyframe: its tracks end within an AAC frame and a
      // video frame of each other (the one-frame rule is for the cut snippets above).
      assert.ok(Math.abs(vd - ad) <= 2 * FRAME, `the last snippet's audio and video end together (${vd} / ${ad})`);
    }
    if (i > 0) assert.equal(metas[i]!.startTime, metas[i - 1]!.endTime, `snippet ${i} starts where snippet ${i - 1} ended`);
  }
  assert.deepEqual(metas[0]!.hosts, ['a', 'b', 'c']);
  assert.deepEqual([...metas[1]!.hosts].sort(), ['a', 'b', 'c', 'd'], 'the joined host is listed in the snippet it joined');
  // a left about a second into the last snippet: it is listed there (it was visible), and its
  // place at the top left belongs to b from then on (checked below)
  assert.deepEqual([...metas[2]!.hosts].sort(), ['a', 'b', 'c', 'd']);

  // The joined host's camera, not its placeholder, fills its tile a few seconds after it joined,
  // and keeps it after the layout shrinks back to three hosts; before it joined that part of the
  // canvas was something else (so this check can fail).
  const start1 = Date.parse(metas[1]!.startTime);
  const joinLocal = (joinedAt - start1) / 1000;
  assert.ok(joinLocal > 1 && joinLocal < 11, `joined ${joinLocal.toFixed(1)} s into snippet 1`);
  const before = tileColour(snippets[1]!.location, joinLocal - 1.2, tileOf(['a', 'b', 'c', 'd'], 'd'));
  const during = tileColour(snippets[1]!.location, joinLocal + 3, tileOf(['a', 'b', 'c', 'd'], 'd'));
  const start2 = Date.parse(metas[2]!.startTime);
  const leftLocal = Math.max(0, (leftAt - start2) / 1000);
  const later = tileColour(snippets[2]!.location, leftLocal + 3, tileOf(['b', 'c', 'd'], 'd'));
  const want = hexToRgb(d.colour);
  assert.ok(colourDistance(before, want) > 40, `before joining, d's tile is not d's colour (${before.join(',')} vs ${want.join(',')})`);
  assert.equal(nearest(during), d.colour, `d's tile shows d's camera after joining (${during.join(',')} vs ${want.join(',')})`);
  assert.ok(colourDistance(during, want) <= 40, `d's colour is close (${during.join(',')} vs ${want.join(',')})`);
  assert.equal(nearest(later), d.colour, `d's tile shows d's camera in the three-host layout (${later.join(',')})`);
  assert.ok(colourDistance(later, want) <= 40, `d's colour is close later (${later.join(',')} vs ${want.join(',')})`);
  const topLeft = tileColour(snippets[2]!.location, leftLocal + 3, tileOf(['b', 'c', 'd'], 'b'));
  assert.equal(nearest(topLeft), live.hosts.get('b')!.colour, `after a left, b took the top-left tile (${topLeft.join(',')})`);

  // The ingest forwarded every host to the pipeline and nothing was lost on loopback.
  const stats = rec.events.filter((e) => e.type === 'stats');
  const last = stats[stats.length - 1];
  assert.ok(last?.type === 'stats' && last.stats.fpsOut > 12 && last.stats.fpsOut < 18, 'output near 15 fps');
});
