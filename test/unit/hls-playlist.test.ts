// The published HLS playlist across hlssink2 runs: media sequence that only grows, a discontinuity
// at each new run, the discontinuity sequence when one rolls out, and a new shipper continuing the
// bucket's copy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMediaPlaylist, PublishedPlaylist } from '../../activities/ship/hls-playlist';

/** A playlist as hlssink2 1.22 writes it: `run` segments `from`..`to`, a rolling window of `length`. */
function local(run: string, from: number, to: number, length: number, ended = false): string {
  const first = Math.max(from, to - length + 1);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-ALLOW-CACHE:NO', `#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-TARGETDURATION:2', ''];
  for (let i = first; i <= to; i++) lines.push(`#EXTINF:2.0000000000000000,`, `${run}-${String(i).padStart(6, '0')}.ts`);
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

test('hlssink2 playlists parse into entries, target duration, media sequence and end', () => {
  const p = parseMediaPlaylist(local('r1', 0, 5, 4, true));
  assert.equal(p.targetDuration, 2);
  assert.equal(p.mediaSequence, 2);
  assert.deepEqual(
    p.entries.map((e) => e.name),
    ['r1-000002.ts', 'r1-000003.ts', 'r1-000004.ts', 'r1-000005.ts'],
  );
  assert.equal(p.entries[0]!.duration, '2.0000000000000000');
  assert.ok(p.ended);
  assert.throws(() => parseMediaPlaylist('#EXTM3U\nr1-000000.ts\n'), /r1-000000\.ts has no EXTINF/);
});

test('one run: the published playlist follows hlssink2 (same window and sequence), ends with it', () => {
  const pub = new PublishedPlaylist();
  for (let to = 0; to <= 7; to++) pub.merge(parseMediaPlaylist(local('r1', 0, to, 4)));
  const out = parseMediaPlaylist(pub.render());
  assert.equal(out.mediaSequence, 4);
  assert.deepEqual(
    out.entries.map((e) => e.name),
    ['r1-000004.ts', 'r1-000005.ts', 'r1-000006.ts', 'r1-000007.ts'],
  );
  assert.ok(out.entries.every((e) => !e.discontinuity));
  assert.doesNotMatch(pub.render(), /DISCONTINUITY/);
  assert.equal(pub.merge(parseMediaPlaylist(local('r1', 0, 7, 4))), false, 'the same playlist again changes nothing');
  assert.ok(pub.merge(parseMediaPlaylist(local('r1', 0, 7, 4, true))));
  assert.match(pub.render(), /#EXT-X-ENDLIST\n$/);
});

test('a new run continues the sequence after a discontinuity; the tag is counted when it rolls out', () => {
  const pub = new PublishedPlaylist();
  for (let to = 0; to <= 5; to++) pub.merge(parseMediaPlaylist(local('r1', 0, to, 4)));
  // hlssink2 restarted: its playlist starts again at sequence 0 with a new run's names
  pub.merge(parseMediaPlaylist(local('r2', 0, 0, 4)));
  let text = pub.render();
  let out = parseMediaPlaylist(text);
  assert.equal(out.mediaSequence, 3, 'the sequence grows; it does not restart at 0');
  assert.deepEqual(
    out.entries.map((e) => e.name),
    ['r1-000003.ts', 'r1-000004.ts', 'r1-000005.ts', 'r2-000000.ts'],
  );
  assert.match(text, /r1-000005\.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2\.0+,\nr2-000000\.ts/);
  assert.doesNotMatch(text, /DISCONTINUITY-SEQUENCE/);

  for (let to = 1; to <= 3; to++) pub.merge(parseMediaPlaylist(local('r2', 0, to, 4)));
  text = pub.render();
  out = parseMediaPlaylist(text);
  assert.equal(out.mediaSequence, 6);
  assert.deepEqual(
    out.entries.map((e) => e.name),
    ['r2-000000.ts', 'r2-000001.ts', 'r2-000002.ts', 'r2-000003.ts'],
  );
  // r2-000000 is first now: its discontinuity is carried by the sequence (RFC 8216 6.2.2)
  assert.equal(out.discontinuitySequence, 1);
  assert.doesNotMatch(text, /#EXT-X-DISCONTINUITY\n/);
  pub.merge(parseMediaPlaylist(local('r2', 0, 4, 4)));
  assert.equal(parseMediaPlaylist(pub.render()).discontinuitySequence, 1, 'counted once');
});

test('an end written by an older run does not end the published playlist', () => {
  const pub = new PublishedPlaylist();
  pub.merge(parseMediaPlaylist(local('r1', 0, 2, 4)));
  pub.merge(parseMediaPlaylist(local('r2', 0, 1, 4)));
  assert.equal(pub.merge(parseMediaPlaylist(local('r1', 0, 2, 4, true))), false);
  assert.doesNotMatch(pub.render(), /ENDLIST/);
});

test('a new shipper continues the bucket copy: no segment twice, sequence and discontinuities kept, end dropped', () => {
  const first = new PublishedPlaylist();
  for (let to = 0; to <= 5; to++) first.merge(parseMediaPlaylist(local('r1', 0, to, 4)));
  first.merge(parseMediaPlaylist(local('r2', 0, 1, 4, true)));
  const bucketCopy = parseMediaPlaylist(first.render());
  assert.ok(bucketCopy.ended);

  const next = new PublishedPlaylist(bucketCopy);
  next.merge(parseMediaPlaylist(local('r3', 0, 0, 4)));
  const text = next.render();
  const out = parseMediaPlaylist(text);
  assert.equal(out.mediaSequence, bucketCopy.mediaSequence + 1);
  assert.deepEqual(
    out.entries.map((e) => [e.name, e.discontinuity]),
    [
      ['r1-000005.ts', false],
      ['r2-000000.ts', true],
      ['r2-000001.ts', false],
      ['r3-000000.ts', true],
    ],
  );
  assert.doesNotMatch(text, /ENDLIST/, 'a restarted recording is live again');
  assert.equal(out.targetDuration, 2);
});
