// Ingest building blocks without sockets: sequence accounting, the port allocator, lip sync arithmetic.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { SequenceTracker } from '../../pipelines/ingest/sequence';
import { PortAllocator, PortRangeExhaustedError, parsePortRange } from '../../pipelines/ingest/ports';
import { LipSyncEstimator, WindowedMinimum, captureTimeMs, mappingFromSr } from '../../pipelines/ingest/lipsync';
import { unixMsToNtp } from '../../pipelines/ingest/rtp';
import { loadIngestConfig } from '../../pipelines/ingest/config';

function feed(t: SequenceTracker, seqs: number[]): string[] {
  return seqs.map((s) => t.push(s & 0xffff));
}

describe('sequence accounting', () => {
  it('counts loss across the 16-bit wrap', () => {
    const t = new SequenceTracker();
    feed(t, [65533, 65534, 65535, 0, 2, 3, 6]); // missing 1, 4, 5
    assert.deepEqual(t.counts(), { received: 7, lost: 3, duplicates: 0, reordered: 0, restarts: 0 });
  });

  it('late packets fill gaps; duplicates are recognised, including late duplicates', () => {
    const t = new SequenceTracker();
    const v = feed(t, [100, 102, 101, 103, 103, 101, 105, 104, 106]);
    assert.deepEqual(v, ['new', 'new', 'late', 'new', 'duplicate', 'duplicate', 'new', 'late', 'new']);
    assert.deepEqual(t.counts(), { received: 7, lost: 0, duplicates: 2, reordered: 2, restarts: 0 });
  });

  it('a packet older than the first one widens the range', () => {
    const t = new SequenceTracker();
    feed(t, [11, 10, 12]);
    assert.deepEqual(t.counts(), { received: 3, lost: 0, duplicates: 0, reordered: 1, restarts: 0 });
  });

  it('a huge jump restarts tracking; reset keeps totals', () => {
    const t = new SequenceTracker();
    feed(t, [1, 2, 4, 30000, 30001]);
    assert.equal(t.counts().restarts, 1);
    assert.equal(t.counts().lost, 1);
    t.reset();
    feed(t, [500, 502]);
    assert.equal(t.counts().lost, 2);
    assert.equal(t.counts().received, 7);
  });
});

describe('port allocator', () => {
  it('parses ranges and rejects bad ones', () => {
    assert.deepEqual(parsePortRange('40000-40999'), { first: 40000, last: 40999 });
    for (const bad of ['40000', '5-10', '41000-40000', '40001-40001', '40000-70000', 'a-b']) assert.throws(() => parsePortRange(bad), Error, bad);
    assert.deepEqual(loadIngestConfig({}).rtpPorts, { first: 40000, last: 40999 });
    assert.equal(loadIngestConfig({}).rtpAddress, '127.0.0.1');
    assert.deepEqual(loadIngestConfig({ TAPEDECK_RTP_PORTS: '50001-50010' }).rtpPorts, { first: 50001, last: 50010 });
  });

  it('hands out even ports with room for RTCP, reuses released ones and fails clearly when exhausted', () => {
    const a = new PortAllocator(parsePortRange('50001-50008')); // even ports with an odd neighbour: 50002, 50004, 50006
    assert.equal(a.capacity, 3);
    const got = [a.allocate(), a.allocate(), a.allocate()];
    assert.deepEqual(got.sort(), [50002, 50004, 50006]);
    assert.throws(() => a.allocate(), (e: unknown) => e instanceof PortRangeExhaustedError && /50001-50008/.test(e.message) && /TAPEDECK_RTP_PORTS/.test(e.message));
    a.release(50004);
    assert.equal(a.allocate(), 50004);
    assert.throws(() => a.release(50003));
  });
});

describe('lip sync arithmetic', () => {
  it('maps RTP timestamps to capture time across the 32-bit wrap', () => {
    const ntp = unixMsToNtp(1_000_000);
    const m = mappingFromSr(ntp.seconds, ntp.fraction, 0xffffff00, 0);
    // 0x100 ticks after the mapping point, past the wrap: 256/90000 s later
    assert.ok(Math.abs(captureTimeMs(m, 0x00000000, 90_000) - (1_000_000 + 256 / 90)) < 1e-6);
    assert.ok(Math.abs(captureTimeMs(m, 0xffffff00 - 48_000, 48_000) - (1_000_000 - 1000)) < 1e-6);
  });

  it('windowed minimum forgets old samples', () => {
    const w = new WindowedMinimum(1000, 4);
    w.push(5, 0);
    w.push(9, 300);
    assert.equal(w.value(300), 5);
    w.push(7, 1500);
    assert.equal(w.value(1500), 7);
    assert.equal(w.value(5000), undefined);
  });

  it('estimates audioDelayMs = transit(video) − transit(audio) independent of the clock offset', () => {
    // sender clock is 3.7 s ahead of ours (arbitrary), network delay 20 ms; audio leaves 120 ms late
    const offset = -3700;
    const est = new LipSyncEstimator({ video: 90_000, audio: 48_000 }, { thresholdMs: 3 });
    const senderStart = 2_000_000_000_000;
    const vBase = 0xffff0000; // wraps soon
    const aBase = 0x7fffffff;
    const srNtp = unixMsToNtp(senderStart);
    const localStart = senderStart + offset;
    est.onSenderReport(1, mappingFromSr(srNtp.seconds, srNtp.fraction, vBase, localStart));
    est.onSenderReport(2, mappingFromSr(srNtp.seconds, srNtp.fraction, aBase, localStart));
    const events: number[] = [];
    for (let i = 0; i < 200; i++) {
      const mediaMs = i * 20;
      // our clock reading when a packet captured at sender time `capture` arrives: offset + 20 ms + jitter 0..6 ms
      const local = (capture: number, extra: number) => capture + offset + 20 + extra + (i % 7);
      const v = est.onRtp('video', 1, (vBase + mediaMs * 90) >>> 0, local(senderStart + mediaMs, 0));
      const a = est.onRtp('audio', 2, (aBase + mediaMs * 48) >>> 0, local(senderStart + mediaMs, 120));
      for (const e of [v, a]) if (e !== undefined) events.push(e);
    }
    assert.ok(events.length >= 1 && events.length < 5, `few announcements, got ${events}`);
    assert.equal(est.lastAnnounced, -120);
  });

  it('says nothing without sender reports', () => {
    const est = new LipSyncEstimator({ video: 90_000, audio: 48_000 });
    for (let i = 0; i < 50; i++) {
      assert.equal(est.onRtp('video', 1, i * 3000, i * 33), undefined);
      assert.equal(est.onRtp('audio', 2, i * 960, i * 20 + 100), undefined);
    }
    assert.equal(est.estimate(2000), undefined);
  });
});
