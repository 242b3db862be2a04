// Sealed stream keys: what enters Temporal never holds a key, the media worker gets it back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactRtmpUrl, rtmpOutputId, rtmpUrlProblem } from '../../pipelines/outputs/outputs';
import { isSealedRtmpUrl, openRtmpDestinations, openRtmpUrl, sealRtmpUrl, streamKeyCipherKey, StreamKeyError } from '../../pipelines/outputs/stream-keys';

const KEY = streamKeyCipherKey('a test secret that is long enough to use');
const URL_A = 'rtmp://live.example.com/app/sk-live-1234-abcd';

test('a sealed URL hides the key, keeps host and app, is still a valid destination, and opens again', () => {
  const sealed = sealRtmpUrl(URL_A, KEY);
  assert.ok(isSealedRtmpUrl(sealed));
  assert.ok(!isSealedRtmpUrl(URL_A));
  assert.ok(!sealed.includes('sk-live-1234-abcd'));
  assert.match(sealed, /^rtmp:\/\/live\.example\.com\/app\/sealed\.v1\.[A-Za-z0-9_-]+$/);
  assert.equal(rtmpUrlProblem(sealed), undefined, 'the workflow still validates its shape');
  assert.equal(redactRtmpUrl(sealed), 'rtmp://live.example.com/app/***');
  assert.equal(openRtmpUrl(sealed, KEY), URL_A);
  assert.equal(sealRtmpUrl(sealed, KEY), sealed, 'sealing twice changes nothing');
  assert.equal(openRtmpUrl(URL_A, KEY), URL_A, 'a plain URL opens to itself');
  assert.equal(openRtmpUrl(URL_A, undefined), URL_A);
});

test('sealing is deterministic per URL (de-duplication and output ids hold), distinct across URLs', () => {
  assert.equal(sealRtmpUrl(URL_A, KEY), sealRtmpUrl(URL_A, KEY));
  assert.notEqual(sealRtmpUrl(URL_A, KEY), sealRtmpUrl('rtmp://live.example.com/app/sk-live-1234-abce', KEY));
  assert.notEqual(sealRtmpUrl(URL_A, KEY), sealRtmpUrl(URL_A, streamKeyCipherKey('another secret, also long enough here')));
});

test('keys with slashes, ports and rtmps round-trip', () => {
  for (const url of ['rtmps://a.example.com:4443/live2/key/with/slashes?x=1', 'rtmp://[::1]:1935/app/k', 'rtmp://127.0.0.1/live/e2e-secret-A']) {
    const sealed = sealRtmpUrl(url, KEY);
    assert.equal(openRtmpUrl(sealed, KEY), url, url);
    assert.equal(rtmpUrlProblem(sealed), undefined);
  }
});

test('a sealed key does not open without the secret, with another one, tampered, or moved to another server', () => {
  const sealed = sealRtmpUrl(URL_A, KEY);
  assert.throws(() => openRtmpUrl(sealed, undefined), (e: Error) => e instanceof StreamKeyError && /TAPEDECK_STREAM_KEY_SECRET is not set/.test(e.message));
  assert.throws(() => openRtmpUrl(sealed, streamKeyCipherKey('another secret, also long enough here')), StreamKeyError);
  const last = sealed.at(-2) === 'A' ? 'B' : 'A';
  assert.throws(() => openRtmpUrl(`${sealed.slice(0, -2)}${last}${sealed.at(-1)}`, KEY), StreamKeyError);
  assert.throws(() => openRtmpUrl(sealed.replace('live.example.com', 'evil.example.com'), KEY), StreamKeyError);
  assert.throws(() => openRtmpUrl(sealed.replace('/app/', '/other/'), KEY), StreamKeyError);
  assert.throws(() => openRtmpUrl('rtmp://live.example.com/app/sealed.v1.AAAA', KEY), /too short/);
  for (const bad of [() => openRtmpUrl(sealed, undefined), () => openRtmpUrl(sealed, streamKeyCipherKey('x'.repeat(40)))]) {
    assert.throws(bad, (e: Error) => !e.message.includes('sk-live'));
  }
});

test('the media worker streams what opens and reports the rest failed, named after the sealed URL, without its key', () => {
  const other = streamKeyCipherKey('another secret, also long enough here');
  const plain = 'rtmp://b.example.com:1936/live/sk-plain-5678';
  const mine = sealRtmpUrl(URL_A, KEY);
  const theirs = sealRtmpUrl('rtmps://c.example.com/live/sk-theirs-9012', other);
  const now = new Date('2026-11-25T08:00:00Z');
  const { opened, refused } = openRtmpDestinations([mine, plain, theirs], KEY, now);
  assert.deepEqual(opened, [URL_A, plain]);
  assert.equal(refused.length, 1);
  const r = refused[0]!;
  assert.equal(r.id, rtmpOutputId(theirs));
  assert.equal(r.kind, 'rtmp');
  assert.equal(r.state, 'failed');
  assert.equal(r.target, 'rtmps://c.example.com/live/***');
  assert.equal(r.since, now.toISOString());
  assert.match(r.lastError ?? '', /^not started by the media worker: .*does not open with this TAPEDECK_STREAM_KEY_SECRET/);
  assert.ok(!JSON.stringify(refused).includes('sk-theirs'));
  const none = openRtmpDestinations([mine], undefined, now);
  assert.deepEqual(none.opened, []);
  assert.match(none.refused[0]!.lastError ?? '', /TAPEDECK_STREAM_KEY_SECRET is not set/);
  assert.deepEqual(openRtmpDestinations([], KEY), { opened: [], refused: [] });
});
