// Pure parts of shipping: object names, snippet ids, latency percentiles, backoff bounds, sidecar
// validation, the MP4 box check on synthetic files, and the message/metadata mapping.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildMessage, messageAttributes, objectMetadata } from '../../activities/ship/message';
import { compactUtc, objectName, snippetId } from '../../activities/ship/naming';
import { parseSidecar } from '../../activities/ship/shipper';
import { LatencyWindow, backoffDelay, percentile } from '../../activities/ship/stats';
import { checkMp4Boxes, CorruptSnippetError } from '../../activities/ship/verify';
import { sidecarFor } from '../support/snippets';

const box = (type: string, payload = 0) => {
  const b = Buffer.alloc(8 + payload);
  b.writeUInt32BE(8 + payload, 0);
  b.write(type, 4, 'latin1');
  return b;
};

describe('shipping: names and ids', () => {
  it('formats contract times and object names', () => {
    assert.equal(compactUtc('2026-01-02T03:04:05.006Z'), '20260102T030405.006Z');
    assert.equal(compactUtc('2026-01-02T04:04:05.1+01:00'), '20260102T030405.100Z');
    const base = { livestreamId: 'ls1', sequence: 7, startTime: '2026-01-02T03:04:05.000Z', endTime: '2026-01-02T03:04:20.000Z' };
    assert.equal(objectName({ ...base, kind: 'composite', contentType: 'video/mp4' }), 'livestreams/ls1/composite/000007_20260102T030405.000Z_20260102T030420.000Z.mp4');
    assert.equal(objectName({ ...base, kind: 'individual', hostId: 'h-1', contentType: 'audio/mpeg' }), 'livestreams/ls1/host-h-1/000007_20260102T030405.000Z_20260102T030420.000Z.mp3');
    assert.throws(() => objectName({ ...base, kind: 'individual', contentType: 'video/mp4' }), /hostId/);
  });

  it('derives the same UUIDv5 snippetId for the same snippet and a new one otherwise', () => {
    const a = snippetId('ls1', 'composite', 3);
    assert.equal(a, snippetId('ls1', 'composite', 3));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const others = [snippetId('ls1', 'composite', 4), snippetId('ls2', 'composite', 3), snippetId('ls1', 'host-a-1', 3)];
    assert.equal(new Set([a, ...others]).size, 4);
  });
});

describe('shipping: latency and backoff', () => {
  it('computes nearest-rank percentiles over a bounded window', () => {
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([5], 0.95), 5);
    const w = new LatencyWindow(100);
    for (let i = 1; i <= 200; i++) w.add(i);
    assert.deepEqual(w.summary(), { count: 200, p50: 150, p95: 195, max: 200 });
    assert.deepEqual(new LatencyWindow().summary(), { count: 0, p50: null, p95: null, max: null });
  });

  it('backs off exponentially with jitter, never beyond the cap', () => {
    assert.equal(backoffDelay(0, 500, 30_000, () => 0), 250);
    assert.equal(backoffDelay(0, 500, 30_000, () => 1), 500);
    assert.equal(backoffDelay(3, 500, 30_000, () => 1), 4000);
    for (let attempt = 0; attempt < 100; attempt++) {
      const d = backoffDelay(attempt, 500, 30_000);
      assert.ok(d >= 250 && d <= 30_000, `attempt ${attempt}: ${d}`);
    }
    assert.equal(backoffDelay(50, 500, 30_000, () => 0), 15_000);
  });
});

describe('shipping: sidecars and files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapedeck-ship-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a pipeline sidecar and names what is wrong with a bad one', () => {
    const meta = sidecarFor({ livestreamId: 'ls1', recordingId: 'composite', sequence: 4 });
    assert.deepEqual(parseSidecar(JSON.stringify(meta), 4), meta);
    assert.throws(() => parseSidecar(JSON.stringify(meta), 5), /sequence 4 does not match the file name \(5\)/);
    assert.throws(() => parseSidecar(JSON.stringify({ ...meta, kind: 'other', file: '../x.mp4' }), 4), /kind must be.*file must be a plain name/);
    assert.throws(() => parseSidecar(JSON.stringify({ ...meta, kind: 'individual' }), 4), /individual snippet without hostId/);
    assert.throws(() => parseSidecar('{"schema":', 4));
  });

  it('checks that MP4 boxes tile the file and the essential ones are there', async () => {
    const good = join(dir, 'good.mp4');
    // a moov holds boxes too: here only its header (mvhd)
    const moov = Buffer.concat([box('moov'), box('mvhd', 32)]);
    moov.writeUInt32BE(moov.length, 0);
    writeFileSync(good, Buffer.concat([box('ftyp', 12), box('mdat', 100), moov]));
    await checkMp4Boxes(good);
    const truncated = join(dir, 'truncated.mp4');
    writeFileSync(truncated, Buffer.concat([box('ftyp', 12), box('mdat', 100), moov]).subarray(0, 150));
    await assert.rejects(checkMp4Boxes(truncated), (e: unknown) => e instanceof CorruptSnippetError && /truncated MP4: moov box/.test(e.reason));
    const noMoov = join(dir, 'nomoov.mp4');
    writeFileSync(noMoov, Buffer.concat([box('ftyp', 12), box('mdat', 100)]));
    await assert.rejects(checkMp4Boxes(noMoov), /no moov box/);
    const garbage = join(dir, 'garbage.mp4');
    writeFileSync(garbage, Buffer.alloc(64, 0xff));
    await assert.rejects(checkMp4Boxes(garbage), CorruptSnippetError);
  });

  it('builds the message from the probed file and repeats it in string metadata', () => {
    const meta = sidecarFor({ livestreamId: 'ls1', recordingId: 'host-ann-2', hostId: 'ann', sequence: 2, seconds: 15 });
    const m = buildMessage(meta, { sizeBytes: 1234, md5: 'AAAAAAAAAAAAAAAAAAAAAA==', crc32c: 'AAAAAA==', media: { container: 'mp4', durationMs: 14_980, video: { codec: 'H264', width: 640, height: 360, fps: 15 }, audio: { codec: 'AAC', sampleRate: 48000, channels: 2 } } }, 'bkt');
    assert.equal(m.durationMs, 14_980, 'duration from the file, not the sidecar');
    assert.deepEqual(m.audio, { codec: 'AAC', sampleRate: 48000, channels: 2 });
    assert.equal(m.uri, `gs://bkt/${objectName(meta)}`);
    assert.deepEqual(messageAttributes(m), { snippetId: snippetId('ls1', 'host-ann-2', 2), livestreamId: 'ls1', kind: 'individual', hostId: 'ann', schema: 'tapedeck.snippet.v1' });
    const md = objectMetadata(m);
    assert.equal(md.sequence, '2');
    assert.deepEqual(JSON.parse(md.video!), m.video);
    assert.ok(Object.values(md).every((v) => typeof v === 'string'));
  });
});
