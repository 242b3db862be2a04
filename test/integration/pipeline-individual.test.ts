// Individual recordings on real GStreamer with RTP over loopback: H.264 kept as sent, VP8
// transcoded, audio-only MP3, the no-media warning, and a SIGKILLed host (earlier snippets intact,
// parent alive and told). Senders are gst-launch-1.0 pipelines (test/support/rtp-sender.ts).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { SnippetMetadata } from '../../pipelines/spool';
import { decodeErrors, firstVideoFrameIsKey, probe } from '../support/media';
import { hostMedia, individualConfig, recorder, sleep, tempSpool } from '../support/recording';
import { sendHost, type RtpSender } from '../support/rtp-sender';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function record(variant: 'av' | 'audio', codec: 'VP8' | 'H264', seconds: number, senderExtra: Parameters<typeof sendHost>[0] = {}) {
  const spool = tempSpool(`ind-${variant}-${codec}`);
  cleanups.push(spool.cleanup);
  const { sup, events, closed } = recorder();
  cleanups.push(() => sup.kill());
  const host = hostMedia('h1', codec);
  const ready = await sup.start(individualConfig(spool.dir, host, variant));
  const ports = ready.inputs[0]!;
  if (variant === 'av') assert.ok(ports.video!.rtpPort > 0, 'video port reported');
  assert.ok(ports.audio!.rtpPort > 0, 'audio port reported');
  const sender: RtpSender = sendHost({ videoPort: variant === 'av' ? ports.video!.rtpPort : undefined, audioPort: ports.audio!.rtpPort, videoCodec: codec, ...senderExtra });
  cleanups.push(() => sender.stop());
  await sleep(seconds * 1000);
  const exit = await sup.stop('test done', 20_000);
  await sender.stop();
  assert.equal(exit.clean, true, exit.reason);
  assert.equal(exit.code, 0);
  return { dir: spool.dir, events, closed: closed() };
}

function checkSpool(dir: string, ext: 'mp4' | 'mp3', count: number) {
  const files = readdirSync(dir);
  assert.equal(files.filter((f) => f.endsWith('.part')).length, 0, 'no part file left after a graceful stop');
  const snippets = files.filter((f) => f.endsWith(`.${ext}`)).sort();
  assert.equal(snippets.length, count);
  const state = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8'));
  assert.equal(state.nextSequence, count);
  return snippets.map((f) => ({ file: join(dir, f), meta: JSON.parse(readFileSync(join(dir, f.replace(`.${ext}`, '.json')), 'utf8')) as SnippetMetadata }));
}

test('an H.264 host is recorded as sent: High profile and 320x240 kept, 2 s snippets that start on a keyframe', { timeout: 60_000 }, async () => {
  // The pipeline's own encoder (x264 ultrafast) can only write Constrained Baseline: High proves passthrough.
  const { dir, closed } = await record('av', 'H264', 7.5, { h264Profile: 'high', h264Preset: 'superfast', keyframeInterval: 30 });
  assert.ok(closed.length >= 3, `at least 3 snippets, got ${closed.length}`);
  const snippets = checkSpool(dir, 'mp4', closed.length);
  for (const [i, s] of snippets.entries()) {
    const p = probe(s.file);
    const v = p.streams.find((x) => x.codec_type === 'video')!;
    const a = p.streams.find((x) => x.codec_type === 'audio')!;
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.profile, 'High', 'not re-encoded');
    assert.equal(v.width, 320);
    assert.equal(v.height, 240);
    assert.equal(a.codec_name, 'aac');
    assert.ok(firstVideoFrameIsKey(s.file), `${s.file} starts with a keyframe`);
    assert.equal(decodeErrors(s.file), '', `${s.file} decodes cleanly`);
    assert.equal(s.meta.sequence, i);
    assert.deepEqual(s.meta.video, { codec: 'H264', width: 320, height: 240, fps: s.meta.video!.fps });
    if (i < snippets.length - 1) assert.ok(Math.abs(Number(v.duration) - 2) < 0.05, `snippet ${i} is 2 s (${v.duration})`);
    if (i > 0) assert.equal(s.meta.startTime, snippets[i - 1]!.meta.endTime, 'snippets are contiguous');
  }
});

test('a VP8 host is transcoded to H.264 (x264) with AAC, exact 2 s snippets', { timeout: 60_000 }, async () => {
  const { dir, closed } = await record('av', 'VP8', 7.5);
  const snippets = checkSpool(dir, 'mp4', closed.length);
  assert.ok(snippets.length >= 3);
  for (const [i, s] of snippets.entries()) {
    const p = probe(s.file);
    const v = p.streams.find((x) => x.codec_type === 'video')!;
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.profile, 'Constrained Baseline', 'written by our x264 ultrafast encoder');
    assert.equal(v.width, 320);
    assert.equal(p.streams.find((x) => x.codec_type === 'audio')!.codec_name, 'aac');
    assert.ok(firstVideoFrameIsKey(s.file));
    assert.equal(decodeErrors(s.file), '');
    if (i < snippets.length - 1) assert.ok(Math.abs(Number(v.duration) - 2) < 0.07, `snippet ${i} is 2 s within a frame (${v.duration})`);
  }
});

test('an audio-only period yields MP3 snippets', { timeout: 60_000 }, async () => {
  const { dir, closed } = await record('audio', 'VP8', 6.5);
  const snippets = checkSpool(dir, 'mp3', closed.length);
  assert.ok(snippets.length >= 3);
  for (const [i, s] of snippets.entries()) {
    const p = probe(s.file);
    assert.equal(p.streams.length, 1);
    assert.equal(p.streams[0]!.codec_name, 'mp3');
    assert.equal(s.meta.contentType, 'audio/mpeg');
    assert.equal(s.meta.variant, 'audio');
    if (i < snippets.length - 1) assert.ok(Math.abs(Number(p.format.duration) - 2) < 0.05, `snippet ${i} ~2 s (${p.format.duration})`);
  }
});

test('no RTP at all is a no-media warning, not a hang; a 1 ms stop budget forces the stop with a graph dump', { timeout: 40_000 }, async () => {
  const spool = tempSpool('nomedia');
  cleanups.push(spool.cleanup);
  const { sup, events } = recorder();
  cleanups.push(() => sup.kill());
  await sup.start(individualConfig(spool.dir, hostMedia('quiet', 'VP8'), 'av', { noMediaWarningMs: 1500, stopTimeoutMs: 1 }));
  const warning = await sup.next('warning', 6000, (w) => w.code === 'no-media');
  assert.equal(warning.hostId, 'quiet');
  const exit = await sup.stop('test done', 15_000);
  const stopped = events.find((e) => e.type === 'stopped');
  assert.ok(stopped && stopped.type === 'stopped' && stopped.forced, 'forced stop reported');
  assert.ok(stopped.graphDump && existsSync(stopped.graphDump), 'graph dump written');
  assert.match(readFileSync(stopped.graphDump, 'utf8'), /digraph/);
  assert.equal(exit.clean, true);
  assert.equal(exit.code, 3);
});

test('a SIGKILLed host: earlier snippets intact, the parent lives and is told', { timeout: 60_000 }, async () => {
  const spool = tempSpool('sigkill');
  cleanups.push(spool.cleanup);
  const { sup, closed } = recorder();
  cleanups.push(() => sup.kill());
  const ready = await sup.start(individualConfig(spool.dir, hostMedia('k', 'VP8'), 'av'));
  const sender = sendHost({ videoPort: ready.inputs[0]!.video!.rtpPort, audioPort: ready.inputs[0]!.audio!.rtpPort });
  cleanups.push(() => sender.stop());
  await sup.next('fragment-closed', 15_000, (e) => e.sequence === 1);
  await sleep(700); // mid-snippet
  const exitEvent = new Promise((resolve) => sup.once('exit', resolve));
  process.kill(ready.pid, 'SIGKILL');
  const exit = (await exitEvent) as { signal: string; clean: boolean; reason: string };
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(exit.clean, false);
  assert.match(exit.reason, /SIGKILL/);
  assert.equal(sup.send({ type: 'ping', id: 1 }), false, 'commands to a dead host are refused, not thrown');
  const files = readdirSync(spool.dir);
  assert.equal(files.filter((f) => f.endsWith('.part')).length, 1, 'the open snippet is left as a part file');
  for (const c of closed()) {
    assert.ok(existsSync(c.location) && existsSync(c.metadataLocation));
    assert.equal(decodeErrors(c.location), '');
    assert.equal(probe(c.location).streams.length, 2);
  }
  assert.ok(closed().length >= 2);
  await sender.stop();
});
