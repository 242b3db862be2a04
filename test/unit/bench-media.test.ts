// The pure parts of `npm run bench:media` (bench/media-baselines.ts): that the baselines do the
// same work as Tapedeck (tiles, rates, encoder settings, snippet length), and that the snippet
// frame-timing judge finds missing and repeated frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  audioShort,
  ffmpegComposite,
  ffmpegCompositeGraph,
  ffmpegIndividual,
  frameTiming,
  gstLaunchComposite,
  gstLaunchIndividual,
  parseHostCounts,
  sdpFor,
  streamDurations,
  sumTimings,
  type Canvas,
  type HostPorts,
} from '../../bench/media-baselines';
import { udpReceiveBufferErrors } from '../../bench/media-proc';
import { gridTiles } from '../../pipelines/layout';

const canvas: Canvas = { width: 640, height: 360, fps: 15, videoKbps: 5000, audioKbps: 44, snippetSeconds: 15, jitterMs: 200 };
const hosts = (n: number): HostPorts[] => Array.from({ length: n }, (_, i) => ({ hostId: `host-${i + 1}`, videoPort: 50_000 + 4 * i, audioPort: 50_002 + 4 * i }));

test('gst-launch composite: one decode branch per host into the compositor pad at its grid tile', () => {
  const args = gstLaunchComposite(hosts(5), canvas, '/out');
  assert.equal(args[0], '-e', 'EOS on SIGINT, so the last snippet is finalized');
  const text = args.join(' ');
  assert.equal(args.filter((a) => a === 'vp8dec').length, 5);
  assert.equal(args.filter((a) => a === 'opusdec').length, 5);
  const tiles = gridTiles(hosts(5).map((h) => h.hostId), 640, 360);
  tiles.forEach((t, i) => {
    assert.ok(text.includes(`sink_${i}::xpos=${t.x} sink_${i}::ypos=${t.y}`), `tile ${i} position`);
    assert.ok(text.includes(`video/x-raw,width=${t.width},height=${t.height},pixel-aspect-ratio=1/1,framerate=15/1 ! queue ! vmix.sink_${i}`), `tile ${i} scaled in its branch`);
  });
  assert.ok(text.includes('port=50016 ') && text.includes('port=50018 '), 'the last host listens on its own ports');
  assert.ok(text.includes('x264enc pass=qual quantizer=23 bitrate=5000 speed-preset=ultrafast tune=zerolatency key-int-max=15'));
  assert.ok(text.includes('avenc_aac bitrate=44000'));
  assert.ok(text.includes('location=/out/%06d.mp4 max-size-time=15000000000'));
});

test('gst-launch individual: VP8 → x264 at 30 fps with the individual bitrate, Opus → AAC', () => {
  const text = gstLaunchIndividual(hosts(1)[0]!, { ...canvas, fps: 30, videoKbps: 2000 }, '/out').join(' ');
  assert.ok(text.includes('videorate ! video/x-raw,framerate=30/1 ! x264enc'));
  assert.ok(text.includes('bitrate=2000') && text.includes('key-int-max=30'));
  assert.ok(!text.includes('compositor'));
});

test('ffmpeg composite graph: xstack at the same tile positions, padded to the canvas; amix without normalisation', () => {
  const graph = ffmpegCompositeGraph(hosts(5), canvas);
  const tiles = gridTiles(hosts(5).map((h) => h.hostId), 640, 360);
  assert.ok(graph.includes(`xstack=inputs=5:layout=${tiles.map((t) => `${t.x}_${t.y}`).join('|')}`));
  // each host is two inputs, its video (2i) and its audio (2i + 1)
  assert.ok(graph.includes(`[8:v]fps=15,scale=${tiles[4]!.width}:${tiles[4]!.height}:force_original_aspect_ratio=decrease`));
  assert.ok(graph.includes('pad=640:360:0:0:black,format=yuv420p[v]'));
  assert.ok(graph.includes('[1:a][3:a][5:a][7:a][9:a]amix=inputs=5:normalize=0[a]'));
  // xstack needs two inputs: one host is its tile padded to the canvas.
  const one = ffmpegCompositeGraph(hosts(1), canvas);
  assert.ok(!one.includes('xstack') && !one.includes('amix'));
  assert.ok(one.includes('[v0]pad=640:360'));
  assert.ok(one.includes('[0:v]fps=15') && one.includes('[1:a]anull[a]'));
});

test('ffmpeg commands: RTP inputs from SDP files, x264 with the same VBV cap and GOP, 15-second MP4 segments', () => {
  const args = ffmpegComposite(['/a-video.sdp', '/a-audio.sdp', '/b-video.sdp', '/b-audio.sdp'], hosts(2), canvas, '/out');
  const text = args.join(' ');
  assert.equal(args.filter((a) => a === '-i').length, 4);
  // Each input read as gst-launch and Tapedeck read theirs: a 2 MB socket buffer, and a queue deep
  // enough that the main thread's work never leaves RTP unread (ffmpeg's default of 8 did at 25 hosts).
  for (const f of ['/a-video.sdp', '/a-audio.sdp', '/b-video.sdp', '/b-audio.sdp']) assert.ok(text.includes(`-thread_queue_size 1024 -buffer_size 2097152 -protocol_whitelist file,udp,rtp -i ${f}`));
  assert.ok(text.includes('-preset ultrafast -tune zerolatency -crf 23 -maxrate 5000k -bufsize 3000k -g 15 -bf 0'));
  assert.ok(text.includes('-c:a aac -b:a 44k'));
  assert.ok(text.includes('-f segment -segment_time 15 -segment_format mp4'));
  const ind = ffmpegIndividual(['/a-video.sdp', '/a-audio.sdp'], { ...canvas, fps: 30, videoKbps: 2000 }, '/out').join(' ');
  assert.ok(ind.includes('-map 0:v -map 1:a'));
  assert.ok(ind.includes('-maxrate 2000k -bufsize 1200k -g 30') && ind.includes('-r 30'));
});

test('snippet stream durations, and audio judged short of the video', () => {
  assert.deepEqual(streamDurations('video,15.000000\naudio,15.033500\n'), { video: 15, audio: 15.0335 });
  assert.deepEqual(streamDurations('video,15.000000\naudio,0.740167\n'), { video: 15, audio: 0.740167 });
  assert.deepEqual(streamDurations('video,N/A\n\n'), { video: 0, audio: 0 });
  assert.equal(audioShort(24, 24.16), false);
  assert.equal(audioShort(24, 23.2), false, 'a snippet edge is not a loss');
  assert.equal(audioShort(24, 9.7), true);
  assert.equal(audioShort(600, 565), true, 'more than 5% of a long run');
  assert.equal(audioShort(600, 575), false, 'within 5% of a long run');
});

test('kernel UDP receive-buffer drops read from /proc/net/snmp', () => {
  const snmp = [
    'Ip: Forwarding DefaultTTL',
    'Ip: 1 64',
    'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
    'Udp: 34197602 963780 571200 36105437 571207 0 0 0 0',
    'UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
    'UdpLite: 0 0 0 0 3 0 0 0 0',
    '',
  ].join('\n');
  assert.equal(udpReceiveBufferErrors(snmp), 571207);
  assert.equal(udpReceiveBufferErrors('Udp: InDatagrams NoPorts\nUdp: 1 2\n'), undefined);
  assert.equal(udpReceiveBufferErrors(''), undefined);
  // this machine's own counters parse (Linux)
  assert.equal(typeof udpReceiveBufferErrors(), 'number');
});

test('SDP: one stream per file, VP8 and Opus on the host ports with the payload types the mock SFU sends', () => {
  const video = sdpFor(hosts(1)[0]!, 'video');
  assert.match(video, /^m=video 50000 RTP\/AVP 96$/m);
  assert.match(video, /^a=rtpmap:96 VP8\/90000$/m);
  assert.equal(video.match(/^m=/gm)?.length, 1);
  const audio = sdpFor(hosts(1)[0]!, 'audio');
  assert.match(audio, /^m=audio 50002 RTP\/AVP 111$/m);
  assert.match(audio, /^a=rtpmap:111 opus\/48000\/2$/m);
  assert.equal(audio.match(/^m=/gm)?.length, 1);
});

test('frame timing: a constant rate is clean; gaps count the frames that fit in them; repeats count as duplicated', () => {
  const clean = Array.from({ length: 30 }, (_, i) => i / 15);
  assert.deepEqual(frameTiming(clean, 15), { frames: 30, expected: 30, dropped: 0, duplicated: 0 });
  // frames 10..12 missing: a gap of four intervals holds three frames
  const gap = clean.filter((_, i) => i < 10 || i > 12);
  assert.deepEqual(frameTiming(gap, 15), { frames: 27, expected: 30, dropped: 3, duplicated: 0 });
  // one frame repeated with the same timestamp, and order does not matter
  const dup = [...clean, clean[5]!].reverse();
  assert.deepEqual(frameTiming(dup, 15), { frames: 31, expected: 30, dropped: 0, duplicated: 1 });
  assert.deepEqual(frameTiming([], 15), { frames: 0, expected: 0, dropped: 0, duplicated: 0 });
  assert.deepEqual(sumTimings([frameTiming(clean, 15), frameTiming(gap, 15)]), { frames: 57, expected: 60, dropped: 3, duplicated: 0 });
});

test('--hosts takes 1..25, the grid limit', () => {
  assert.deepEqual(parseHostCounts('1,4,9,16,25'), [1, 4, 9, 16, 25]);
  assert.throws(() => parseHostCounts('0'), /1\.\.25/);
  assert.throws(() => parseHostCounts('26'), /1\.\.25/);
  assert.throws(() => parseHostCounts('4,x'), /1\.\.25/);
});
