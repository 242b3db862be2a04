// Live outputs as data: RTMP URL validation and stream-key redaction, output ids, the retry
// backoff, the output bins' specs (one FLV mux shared by the RTMP destinations, errorignore and a
// leaky queue in front of every mux and destination), the tees in the composite, bus-path
// ancestry, and the HLS playlist helpers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMediaPlaylist } from '../../activities/ship/hls-playlist';
import { outputProblems } from '../../apps/api/livestreams/output-problems';
import { AUDIO_TEE, buildComposite, VIDEO_TEE } from '../../pipelines/builders/composite.pipeline';
import {
  buildFlvMux,
  buildHlsOutput,
  FLV_MUX_ID,
  hlsPlaylistUrl,
  InvalidOutputUrl,
  normaliseOutputs,
  outputOfPath,
  parseRtmpUrl,
  redactRtmpUrl,
  redactText,
  retryDelayMs,
  RETRY_MAX_MS,
  rtmpOutputId,
  rtmpUrlProblem,
} from '../../pipelines/outputs/outputs';
import { compositeConfig, hostMedia } from '../support/recording';

test('RTMP URLs: app and key required, rtmp or rtmps, the key never in an error', () => {
  assert.deepEqual(parseRtmpUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-1234'), { scheme: 'rtmp', host: 'a.rtmp.youtube.com', port: 1935, app: 'live2', key: 'abcd-efgh-1234' });
  assert.equal(parseRtmpUrl('rtmps://live.example.com:443/app/k?x=1').port, 443);
  assert.equal(parseRtmpUrl('rtmps://live.example.com/app/k').port, 443);
  assert.equal(parseRtmpUrl('rtmp://127.0.0.1:19350/live/a/b').key, 'a/b');
  for (const bad of ['http://h/app/key', 'rtmp://h/app', 'rtmp://h/', 'rtmp:///app/key', 'rtmp://h:99999/app/key', 'rtmp://h/app/key with space', '']) {
    assert.ok(rtmpUrlProblem(bad), `${bad} refused`);
  }
  assert.ok(rtmpUrlProblem(42));
  assert.equal(rtmpUrlProblem('rtmp://h/app/key'), undefined);
  assert.throws(() => parseRtmpUrl('rtmp://h:99999/app/secret-key', 'rtmp[2]'), (e: Error) => e instanceof InvalidOutputUrl && e.message.startsWith('rtmp[2] ') && !e.message.includes('secret-key'));
  assert.throws(() => parseRtmpUrl('ftp://user:pw@h/app/secret-key'), (e: Error) => !e.message.includes('secret-key') && !e.message.includes('pw'));
});

test('redaction keeps host and app, hides keys and credentials', () => {
  assert.equal(redactRtmpUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh'), 'rtmp://a.rtmp.youtube.com/live2/***');
  assert.equal(redactRtmpUrl('rtmps://user:pass@live.example.com:443/app/key?token=x'), 'rtmps://live.example.com:443/app/***');
  assert.equal(redactRtmpUrl('rtmp://host'), 'rtmp://host/***');
  assert.equal(redactRtmpUrl('not a url'), '***');
  assert.equal(redactText('could not connect to rtmp://h:1935/live/sk-1 (refused); also rtmps://x/y/z'), 'could not connect to rtmp://h:1935/live/*** (refused); also rtmps://x/y/***');
});

test('output ids are stable, distinct, and reveal nothing of the key', () => {
  const a = rtmpOutputId('rtmp://h/live/key-a');
  assert.equal(a, rtmpOutputId('rtmp://h/live/key-a'));
  assert.notEqual(a, rtmpOutputId('rtmp://h/live/key-b'));
  assert.match(a, /^rtmp-[0-9a-f]{8}$/);
});

test('retry backoff doubles from 1 s to a 30 s cap, with jitter', () => {
  assert.equal(retryDelayMs(1, () => 0.5), 1000);
  assert.equal(retryDelayMs(2, () => 0.5), 2000);
  assert.equal(retryDelayMs(5, () => 0.5), 16_000);
  assert.equal(retryDelayMs(50, () => 0.5), RETRY_MAX_MS);
  assert.ok(retryDelayMs(3, () => 0) >= 3200 && retryDelayMs(3, () => 0.999) <= 4800);
});

test('a desired set is validated, de-duplicated and bounded', () => {
  assert.deepEqual(normaliseOutputs({ rtmp: ['rtmp://h/a/k', 'rtmp://h/a/k'] }), { rtmp: ['rtmp://h/a/k'], hls: false });
  assert.deepEqual(normaliseOutputs(undefined), { rtmp: [], hls: false });
  assert.throws(() => normaliseOutputs({ rtmp: ['rtmp://h/a/k', 'rtmp://h/a'] }), /rtmp\[1\]/);
  assert.throws(() => normaliseOutputs({ rtmp: Array.from({ length: 6 }, (_, i) => `rtmp://h/a/k${i}`) }), /at most 5/);
});

test('one FLV mux shared by the RTMP destinations: errorignore and a leaky queue per medium, flvmux (streamable) into the pipe', () => {
  const mux = buildFlvMux(17);
  assert.equal(mux.id, FLV_MUX_ID);
  const byName = new Map(mux.elements.map((e) => [e.name, e]));
  assert.equal(byName.get(mux.inputs.video!)?.factory, 'errorignore');
  assert.equal(byName.get(mux.inputs.audio!)?.factory, 'errorignore');
  const queues = mux.elements.filter((e) => e.factory === 'queue');
  assert.equal(queues.length, 2);
  for (const q of queues) assert.equal(q.props?.leaky, 'downstream');
  assert.equal(mux.elements.filter((e) => e.factory === 'flvmux').length, 1);
  assert.ok(mux.elements.some((e) => e.factory === 'flvmux' && e.props?.streamable === true));
  const sink = byName.get('flv-sink')!;
  assert.equal(sink.factory, 'fdsink');
  assert.equal(sink.props?.fd, 17, 'writes into the pipe it is given');
  assert.equal(sink.props?.sync, false);
  assert.equal(sink.props?.async, false, 'never holds a state change');
  assert.deepEqual(
    mux.links.map((l) => `${l.from}>${l.to}${l.toPad ? `.${l.toPad}` : ''}`),
    ['flv-vok>flv-vq', 'flv-aok>flv-aq', 'flv-vq>flv-mux.video', 'flv-aq>flv-mux.audio', 'flv-mux>flv-sink'],
  );
  assert.equal(outputOfPath('/GstPipeline:composite/GstBin:out-flv/GstFlvMux:flv-mux'), FLV_MUX_ID, 'bus messages of the mux are attributed to it');
});

test('the HLS bin: hlssink2 with the configured segments, parsers for MPEG-TS, nothing deleted by the sink', () => {
  const spec = buildHlsOutput({ segmentSeconds: 4, playlistLength: 6, dir: '/spool/hls', segmentPrefix: 'sabc' });
  const sink = spec.elements.find((e) => e.factory === 'hlssink2')!;
  assert.equal(sink.props?.['target-duration'], 4);
  assert.equal(sink.props?.['playlist-length'], 6);
  assert.equal(sink.props?.['max-files'], 0);
  assert.equal(sink.props?.location, '/spool/hls/sabc-%06d.ts');
  assert.equal(sink.props?.['playlist-location'], '/spool/hls/playlist.m3u8');
  assert.ok(spec.elements.some((e) => e.factory === 'h264parse') && spec.elements.some((e) => e.factory === 'aacparse'));
});

test('the composite shares its encode: tees after the encoders feed the snippets and the outputs', () => {
  const spec = buildComposite(compositeConfig('/spool', [hostMedia('a')]));
  const link = (from: string) => spec.links.filter((l) => l.from === from).map((l) => l.to);
  assert.deepEqual(link('vparse'), [VIDEO_TEE]);
  assert.deepEqual(link(VIDEO_TEE), ['vq2']);
  assert.deepEqual(link('aenc-parse'), [AUDIO_TEE]);
  assert.deepEqual(link(AUDIO_TEE), ['aq']);
  assert.equal(spec.elements.filter((e) => e.factory === 'x264enc').length, 1, 'one video encode');
  // A tee that allowed not-linked would turn the recording branch's not-linked into a silent loss.
  for (const t of [VIDEO_TEE, AUDIO_TEE]) assert.equal(spec.elements.find((e) => e.name === t)?.props?.['allow-not-linked'], false);
});

test('bus messages are attributed to an output by their ancestry', () => {
  assert.equal(outputOfPath('/GstPipeline:composite/GstBin:out-rtmp-1d780076/GstRtmp2Sink:rtmp-1d780076-sink'), 'rtmp-1d780076');
  assert.equal(outputOfPath('/GstPipeline:composite/GstBin:out-hls/GstHlsSink2:hls-sink/GstSplitMuxSink:splitmuxsink0'), 'hls');
  assert.equal(outputOfPath('/GstPipeline:composite/GstQueue:a-v-queue'), undefined);
  assert.equal(outputOfPath('/GstPipeline:composite/GstQueue:out-of-band'), undefined);
});

test('HLS helpers: playlist entries and the public playlist URL', () => {
  const text = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-TARGETDURATION:4\n\n#EXTINF:4.0,\ns1-000003.ts\n#EXTINF:4.0,\ns1-000004.ts\n#EXT-X-ENDLIST\n';
  assert.deepEqual(
    parseMediaPlaylist(text).entries.map((e) => e.name),
    ['s1-000003.ts', 's1-000004.ts'],
  );
  assert.equal(hlsPlaylistUrl('b', 'ls-1'), 'https://storage.googleapis.com/b/livestreams/ls-1/hls/playlist.m3u8');
  assert.equal(hlsPlaylistUrl('b', 'ls-1', new URL('http://127.0.0.1:4443')), 'http://127.0.0.1:4443/b/livestreams/ls-1/hls/playlist.m3u8');
});

test('status: live outputs that are down are named as problems, those streaming or not reported yet are not', () => {
  const since = new Date(0).toISOString();
  const lines = outputProblems({
    rtmp: [
      { id: 'rtmp-a', target: 'rtmp://a.example/app/***', state: 'connected', attempts: 1, bytesSent: 10, since },
      { id: 'rtmp-b', target: 'rtmp://b.example/app/***', state: 'retrying', attempts: 3, bytesSent: 0, since, lastError: 'Could not connect' },
      { id: 'rtmp-c', target: 'rtmps://c.example/app/***', state: 'failed', attempts: 5, bytesSent: 0, since, lastError: 'TLS: unknown CA' },
      { id: 'rtmp-d', target: 'rtmp://d.example/app/***', state: 'failed', attempts: 0, bytesSent: 0, since, lastError: 'its key does not open' },
      { id: 'rtmp-e', target: 'rtmp://e.example/app/***', state: 'pending' },
      { id: 'rtmp-f', target: 'rtmp://f.example/app/***', state: 'connecting', attempts: 1, bytesSent: 0, since },
    ],
    hls: { playlistUrl: 'http://bucket/playlist.m3u8', state: 'retrying', lastError: 'hlssink2: write failed' },
  });
  assert.deepEqual(lines, [
    'RTMP destination rtmp://b.example/app/*** retrying (attempt 3): Could not connect',
    'RTMP destination rtmps://c.example/app/*** failed after 5 attempt(s): TLS: unknown CA',
    'RTMP destination rtmp://d.example/app/*** failed: its key does not open',
    'HLS retrying: hlssink2: write failed',
  ]);
  assert.deepEqual(outputProblems({ rtmp: [], hls: { playlistUrl: 'x', state: 'connected' } }), []);
  assert.deepEqual(outputProblems({ rtmp: [], hls: null }), []);
});
