// The scorer's pure parts and the demo's script: level-message parsing, still-run counting, the
// short-window and short-snippet rules, the score formula, durations and the default script.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseLevelMessages } from '../../apps/moderator/analyse';
import { scoreAudio, scoreSnippet, scoreVideo } from '../../apps/moderator/score';
import { defaultScript, parseDuration } from '../../apps/demo/demo';

const frame = (v: number) => new Uint8Array(64 * 36).fill(v);

describe('moderator score', () => {
  it('parses level messages, digital silence as -Infinity, with window lengths', () => {
    const out = [
      'Got message #293 from element "level0" (element): level, endtime=(guint64)1000000000, timestamp=(guint64)0, stream-time=(guint64)0, running-time=(guint64)0, duration=(guint64)1000000000, rms=(GValueArray)< -18.99, -21.5 >, peak=(GValueArray)< -5.05, -7 >, decay=(GValueArray)< -8.46 >;',
      'Got message #294 from element "level0" (element): level, endtime=(guint64)1200000000, duration=(guint64)200000000, rms=(GValueArray)< -699.99999984363217 >, peak=(GValueArray)< -349.99 >, decay=(GValueArray)< -349.99 >;',
      'Got message #30 from element "level0" (state-changed): GstMessageStateChanged, old-state=(GstState)null;',
    ].join('\n');
    assert.deepEqual(parseLevelMessages(out), [
      { rmsDb: -18.99, peakDb: -5.05, durationMs: 1000 },
      { rmsDb: -Infinity, peakDb: -Infinity, durationMs: 200 },
    ]);
  });

  it('leaves out a short last window, unless it is all there is', () => {
    const loud = { rmsDb: -20, peakDb: -6, durationMs: 1000 };
    const tail = { rmsDb: -Infinity, peakDb: -Infinity, durationMs: 200 };
    assert.equal(scoreAudio([loud, loud, tail]).silentRatio, 0);
    assert.equal(scoreAudio([tail]).silentRatio, 1);
    assert.equal(scoreAudio([loud, { rmsDb: -10, peakDb: -0.5, durationMs: 1000 }]).clippedRatio, 0.5);
  });

  it('counts only still runs of at least a second as frozen', () => {
    // 15 fps: a 3-frame flash (still for 0.2 s) then motion, then 20 identical frames
    const moving = Array.from({ length: 15 }, (_, i) => frame(i * 3));
    const flash = [frame(235), frame(235), frame(235)];
    const still = Array.from({ length: 20 }, () => frame(100));
    const v = scoreVideo([...flash, ...moving, ...still], 15);
    assert.equal(v.frames, 38);
    assert.equal(v.frozenRatio, Number((20 / 38).toFixed(3)));
    assert.equal(scoreVideo([...flash, ...moving], 15).frozenRatio, 0);
    assert.equal(scoreVideo(Array.from({ length: 30 }, (_, i) => frame(10 + (i % 2))), 15).blackRatio, 1);
  });

  it('score = min(audio, video); flagged under the threshold when long enough', () => {
    const m = { audio: [{ rmsDb: -20, peakDb: -6, durationMs: 1000 }], video: { width: 64, height: 36, frames: Array.from({ length: 30 }, () => frame(90)) } };
    const s = scoreSnippet(m, { fps: 15, threshold: 0.5, durationMs: 4000 });
    assert.equal(s.score, 0);
    assert.equal(s.flagged, true);
    assert.deepEqual(s.reasons.map((r) => r.split(':')[0]), ['frozen']);
    assert.equal(scoreSnippet(m, { fps: 15, threshold: 0.5, durationMs: 1500 }).flagged, false);
    assert.equal(scoreSnippet({ audio: m.audio, video: undefined }, { fps: 15, threshold: 0.5, durationMs: 4000 }).score, 1);
  });
});

describe('demo script', () => {
  it('parses durations and refuses nonsense', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('5m'), 300);
    assert.equal(parseDuration('45'), 45);
    assert.throws(() => parseDuration('5 minutes'), /--duration/);
    assert.throws(() => parseDuration('2s'), /from 10s/);
  });

  it('plays the issue: 3 hosts then a 4th, H.264 first, a camera off and on, layouts, a bad host', () => {
    const s = defaultScript(4, 100);
    assert.deepEqual(s.hosts.map((h) => [h.codec, h.joinAt]), [['H264', 0], ['VP8', 0], ['VP8', 0], ['VP8', 30]]);
    assert.deepEqual(s.steps.map((x) => x.do), ['camera', 'camera', 'layout', 'bad', 'bad', 'layout']);
    assert.ok(s.steps.every((x) => x.at > 0 && x.at < 100));
    assert.throws(() => defaultScript(1, 60), /at least 2/);
  });
});
