// Lip sync end to end with the mock SFU's flash+beep pattern, measured in every snippet by
// test/support/av-sync.ts: mock SFU → MediaSession → pipelines (real GStreamer, loopback RTP).
//  1. An individual H.264 recording (passed through), an individual VP8 recording (transcoded to
//     30 fps) and one composite tile, all at once, across a host joining the composite and a camera
//     off/on toggle: audio − video within one output frame (1/30 s, 1/15 s) in every snippet,
//     including the first flashes after the start, the join and the camera coming back. The VP8
//     host's individual recording follows the camera as the workflows run it: one MP4 period until
//     the camera goes off, a new one from when it comes back on.
//  2. A skewed sender (audio leaves 120 ms after its video) with RTCP sender reports: the ingest's
//     estimate reaches the pipelines as set-sync and brings them within one frame; a recording of
//     the same host that is denied set-sync shows the skew, so the measurement can fail.
//  3. Audio whose first packets arrive late (a sender, or a receiver, busy as the stream starts):
//     its jitter buffer corrects their timestamps within about a second, and the audio mixer
//     follows (MIX_ALIGNMENT_NS), so the recording's audio does not stay that much behind its
//     picture. A recording of the same host started later, whose first packets came on time, is
//     the reference.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { HostEvent } from '../../pipelines/protocol';
import { AAC_PRIMING_NS } from '../../pipelines/builders/common';
import { gridTiles } from '../../pipelines/layout';
import { measureAvSync, type AvSyncOptions } from '../support/av-sync';
import { LiveSession, type LiveRecording } from '../support/live-session';
import { compositeConfig, hostMedia, individualConfig, sleep } from '../support/recording';

const sessions: LiveSession[] = [];
after(async () => {
  for (const s of sessions) await s.cleanup();
});

const SNIPPET = 4;

interface SnippetSync {
  sequence: number;
  startTime: string;
  offsets: number[];
  /** Offsets of flashes within an event's window (see `settled`), kept apart. */
  transient: number[];
  /** The event each transient offset belongs to. */
  transientEvents: string[];
}

/** A moment the media changed (join, camera off/on) and how long after it pairs are transient. */
interface MediaEvent {
  what: string;
  atMs: number;
  settleMs: number;
}

async function syncPerSnippet(rec: LiveRecording, options: AvSyncOptions = {}, events: MediaEvent[] = []): Promise<SnippetSync[]> {
  const out: SnippetSync[] = [];
  for (const s of rec.closed()) {
    const r = await measureAvSync(s.location, options);
    const start = Date.parse(s.startTime);
    const offsets: number[] = [];
    const transient: number[] = [];
    const transientEvents: string[] = [];
    for (const p of r.pairs) {
      // snippet timestamps start near 0, so start + flash time is close to the wall time it was sent
      const wall = start + p.flashMs;
      const o = Math.round(p.offsetMs * 10) / 10;
      const event = events.find((e) => wall >= e.atMs - 500 && wall <= e.atMs + e.settleMs);
      if (event) {
        transient.push(o);
        transientEvents.push(event.what);
      } else offsets.push(o);
    }
    out.push({ sequence: s.sequence, startTime: s.startTime, offsets, transient, transientEvents });
  }
  return out;
}

function assertWithin(name: string, snippets: SnippetSync[], frameMs: number, minPairs: (s: SnippetSync, i: number) => number): void {
  for (const [i, s] of snippets.entries()) {
    const pairs = s.offsets.length + s.transient.length;
    assert.ok(pairs >= minPairs(s, i), `${name} snippet ${s.sequence}: ${pairs} flash/beep pairs (${JSON.stringify(s)})`);
    for (const o of s.offsets) assert.ok(Math.abs(o) <= frameMs, `${name} snippet ${s.sequence}: audio − video ${o} ms is within one frame (${frameMs.toFixed(1)} ms): ${JSON.stringify(s.offsets)}`);
  }
}

const noErrors = (rec: LiveRecording) => rec.events.filter((e): e is Extract<HostEvent, { type: 'error' }> => e.type === 'error');

test(
  'A/V sync within one frame in every snippet: H.264 passthrough, VP8 transcode, composite tile, across a join and a camera toggle',
  { timeout: 150_000 },
  async (t) => {
  const live = await LiveSession.open({ livestreamId: 'ls-sync', sender: { rtcp: 'next-port' } });
  sessions.push(live);
  const h = hostMedia('h', 'H264');
  const v = hostMedia('v', 'VP8');
  // one sender for both: their flashes and beeps share one clock, so h's beeps in the composite's
  // mix coincide with v's flashes instead of landing next to them
  await live.addHosts([h, v]);
  const compStartedAt = Date.now();
  const comp = await live.record((dir) => compositeConfig(dir, [v], { snippetSeconds: SNIPPET }));
  const indH = await live.record((dir) => individualConfig(dir, h, 'av', { snippetSeconds: SNIPPET }));
  const indV1 = await live.record((dir) => individualConfig(dir, v, 'av', { snippetSeconds: SNIPPET, recordingId: 'host-v-1' }));
  const events: MediaEvent[] = [];
  await sleep(5000);
  events.push({ what: 'h joins the composite', atMs: Date.now(), settleMs: 1500 });
  await live.join(comp.config.recordingId, h); // the composite grows from one tile to two
  await sleep(4000);
  const offAt = Date.now();
  live.camera('v', false);
  await live.finish(indV1);
  await sleep(3000);
  // the sender resumes at its next keyframe (up to a second later), like a browser after a PLI;
  // everything from camera off to 2.5 s after camera on counts as the toggle
  const onAt = Date.now();
  events.push({ what: 'camera v off → on', atMs: offAt, settleMs: onAt - offAt + 2500 });
  const indV2 = await live.record((dir) => individualConfig(dir, v, 'av', { snippetSeconds: SNIPPET, recordingId: 'host-v-2' }));
  live.camera('v', true);
  await sleep(6000);
  await live.stop();
  for (const r of [comp, indH, indV1, indV2]) assert.deepEqual(noErrors(r), [], `${r.config.recordingId}: no errors`);

  // v's tile: the whole canvas alone, then the left half of a 2x1 grid; its centre stays inside both
  const tile = gridTiles(['v', 'h'], 640, 360).find((x) => x.hostId === 'v')!;
  const crop = { x: tile.x + 40, y: tile.y + 45, width: 240, height: 90 };
  const results = {
    // h's own recording saw neither change; v's saw the camera toggle
    'individual H.264': await syncPerSnippet(indH, {}, []),
    // the period before the camera went off, and the one from when it came back (its first flash is
    // the first thing it records)
    'individual VP8': [...(await syncPerSnippet(indV1, {}, [])), ...(await syncPerSnippet(indV2, {}, [{ what: 'camera v on', atMs: onAt, settleMs: 2500 }]))],
    composite: await syncPerSnippet(comp, { crop }, [{ what: 'composite start', atMs: compStartedAt, settleMs: 2000 }, ...events]),
  };
  t.diagnostic(JSON.stringify(results));
  // The flashes right after the start, a join or a camera coming back are kept apart. The
  // individual ones are held to the same bound, and so are the composite's around the join (the
  // layout change is timed to the moment it stands for).
  const transient = Object.entries(results).flatMap(([name, r]) => r.flatMap((x) => x.transient.map((o, i) => ({ name, o, event: x.transientEvents[i]! }))));
  for (const { name, o } of transient.filter((x) => x.name !== 'composite')) assert.ok(Math.abs(o) <= 1000 / 30, `${name}: a flash right after a change is ${o} ms off`);
  const compositeJoin = transient.filter((x) => x.name === 'composite' && x.event === 'h joins the composite');
  assert.ok(compositeJoin.length >= 1, 'a flash of the composite measured around the join');
  for (const { o } of compositeJoin) assert.ok(Math.abs(o) <= 1000 / 15, `composite: a flash right after the join is ${o} ms off`);
  // The composite's first flashes after the start and after the camera came back. A tile shows, at
  // each canvas frame, the camera frame current at its time (sample and hold), so a flash is shown
  // at the first canvas frame at or after it: never before its time, less than one canvas frame
  // (66.7 ms) after it. The composite's audio is late by the AAC priming (21.3 ms, not compensated:
  // composite.pipeline.ts), so every composite offset lies in (21.3 − 66.7, 21.3], wherever the
  // camera's frames fall between canvas frames (the steady offsets of runs spread over that range).
  // The compositor takes the first frame after a gap for the canvas frame it overlaps, one canvas
  // frame before its own time; shown from then (before the camera layer waited for its first frame),
  // such a flash came out above that range. Measured against the run's steady offset instead, this
  // check failed about once in 20 runs: the tile's videorate restarts its frame grid at the first
  // frame after a gap, about half a millisecond from where it had drifted to, and when the camera's
  // frames sit that close to the canvas frames' times, that moves the flash to the canvas frame
  // before (22 ms against a steady −44.7 ms; GStreamer's logs of that run show it).
  const PRIMING_MS = AAC_PRIMING_NS / 1e6;
  // The steady offsets were seen up to 2.2 ms above the priming (23.5 ms); the flashes shown early
  // before the fix measured +29 to +74 ms.
  const SLACK_MS = 5;
  const firsts = transient.filter((x) => x.name === 'composite' && x.event !== 'h joins the composite');
  assert.ok(
    firsts.some((x) => x.event === 'camera v off → on'),
    'a flash of the composite measured after the camera came back',
  );
  for (const { o, event } of firsts) {
    assert.ok(Math.abs(o) <= 1000 / 15, `composite: a flash right after ${event} is ${o} ms off`);
    assert.ok(o <= PRIMING_MS + SLACK_MS, `composite: a flash right after ${event} is ${o} ms off: shown before its time`);
    assert.ok(o > PRIMING_MS - 1000 / 15 - SLACK_MS, `composite: a flash right after ${event} is ${o} ms off: shown over a canvas frame late`);
  }
  // about one flash per second; a snippet during the camera-off period may have none
  assertWithin('individual H.264', results['individual H.264'], 1000 / 30, (_s, i) => (i < results['individual H.264'].length - 1 ? 2 : 0));
  assertWithin('individual VP8', results['individual VP8'], 1000 / 30, () => 0);
  assertWithin('composite', results.composite, 1000 / 15, () => 0);
  for (const [name, r] of Object.entries(results)) {
    const pairs = r.reduce((n, s) => n + s.offsets.length, 0);
    assert.ok(pairs >= 8, `${name}: ${pairs} flash/beep pairs measured outside the changes`);
  }
  },
);

test('a sender whose audio lags 120 ms is brought within one frame by set-sync from RTCP sender reports', { timeout: 120_000 }, async (t) => {
  const live = await LiveSession.open({ livestreamId: 'ls-skew', sender: { rtcp: 'next-port', audioLagMs: 120 } });
  sessions.push(live);
  const s = hostMedia('s', 'VP8');
  await live.addHost(s);
  const synced = await live.record((dir) => individualConfig(dir, s, 'av', { snippetSeconds: SNIPPET, recordingId: 'host-s-synced' }));
  const comp = await live.record((dir) => compositeConfig(dir, [s], { snippetSeconds: SNIPPET }));
  const control = await live.record((dir) => individualConfig(dir, s, 'av', { snippetSeconds: SNIPPET, recordingId: 'host-s-control' }), { sync: false });
  await sleep(15_000);
  await live.stop();
  for (const r of [synced, comp, control]) assert.deepEqual(noErrors(r), [], `${r.config.recordingId}: no errors`);

  const commands = synced.syncCommands;
  assert.ok(commands.length >= 1, 'the ingest announced a lip sync estimate');
  const estimate = commands[commands.length - 1]!.audioDelayMs;
  assert.ok(estimate < -100 && estimate > -140, `estimate ${estimate} ms: delay the video by about 120 ms`);
  assert.ok(control.syncCommands.length >= 1, 'the control recording was offered the estimate too (and withheld it)');
  const results = {
    synced: await syncPerSnippet(synced),
    composite: await syncPerSnippet(comp, { crop: { x: 160, y: 90, width: 320, height: 180 } }),
    control: await syncPerSnippet(control),
  };
  t.diagnostic(JSON.stringify({ estimate, commands: commands.length, results }));
  const afterFix = (r: SnippetSync[]) => r.filter((_x, i) => i > 0 && i < r.length - 1);
  assertWithin('synced individual', afterFix(results.synced), 1000 / 30, () => 2);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const controlOffsets = afterFix(results.control).flatMap((x) => x.offsets);
  assert.ok(controlOffsets.length >= 4);
  const controlMean = mean(controlOffsets);
  assert.ok(controlMean > 80, `without set-sync the audio is late by about the sender's lag (${controlMean.toFixed(1)} ms)`);
  // The composite follows the estimate.
  const composite = mean(afterFix(results.composite).flatMap((x) => x.offsets));
  assert.ok(composite < controlMean - 40, `set-sync moved the composite's audio towards its video (${composite.toFixed(1)} vs ${controlMean.toFixed(1)} ms)`);
  assertWithin('synced composite', afterFix(results.composite), 1000 / 15, () => 2);
});

test('audio whose first packets arrive 25 ms late is placed where a recording started later places it', { timeout: 120_000 }, async (t) => {
  const LATE_MS = 25;
  // no sender reports: nothing is estimated, so only the pipelines' own timing is under test
  const live = await LiveSession.open({ livestreamId: 'ls-late', sender: { rtcp: 'none', audioStartLateMs: LATE_MS } });
  sessions.push(live);
  const h = hostMedia('h', 'H264');
  const [host] = await live.addHosts([h], {}, { start: false });
  // waiting when the sender starts: its first audio packets are the late ones
  const late = await live.record((dir) => individualConfig(dir, h, 'av', { snippetSeconds: SNIPPET, recordingId: 'host-h-late' }));
  host!.sfu.start();
  await sleep(3000);
  // joins a stream that is on time
  const reference = await live.record((dir) => individualConfig(dir, h, 'av', { snippetSeconds: SNIPPET, recordingId: 'host-h-reference' }));
  await sleep(13_000);
  await live.stop();
  for (const r of [late, reference]) assert.deepEqual(noErrors(r), [], `${r.config.recordingId}: no errors`);
  assert.deepEqual(late.syncCommands, [], 'no lip sync estimate without sender reports');

  const results = { late: await syncPerSnippet(late), reference: await syncPerSnippet(reference) };
  t.diagnostic(JSON.stringify(results));
  // the first snippet holds the correction (the jitter buffer's first second)
  const steady = (r: SnippetSync[]) => r.filter((_x, i) => i > 0).flatMap((x) => x.offsets);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lateOffsets = steady(results.late);
  const referenceOffsets = steady(results.reference);
  assert.ok(lateOffsets.length >= 6 && referenceOffsets.length >= 4, `flash/beep pairs measured (${lateOffsets.length}, ${referenceOffsets.length})`);
  const gap = mean(lateOffsets) - mean(referenceOffsets);
  // audiomixer's own default (40 ms) kept the late start: the gap was the full 25 ms
  assert.ok(Math.abs(gap) <= 6, `audio − video ${mean(lateOffsets).toFixed(1)} ms against ${mean(referenceOffsets).toFixed(1)} ms in the recording started later: ${gap.toFixed(1)} ms apart`);
  const lateSteady = results.late.slice(1);
  assertWithin('late start', lateSteady, 1000 / 30, (_s, i) => (i < lateSteady.length - 1 ? 2 : 0));
});
