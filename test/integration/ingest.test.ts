// mock-sfu → HostIngest → subscriber ports over real UDP on 127.0.0.1: fan-out, counters under
// seeded fault injection, undeclared payload types, SSRC changes, malformed packets, lip sync from
// RTCP sender reports (next port and multiplexed), port exhaustion and reuse.
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { MockSfu, type MockSfuOptions } from '../../apps/mock-sfu/sender';
import { HostIngest, PortAllocator, PortRangeExhaustedError, parseRtp, setSyncCommand, type IngestEvent } from '../../pipelines/ingest';
import { RtpRecorder, freeUdpPort, sleep } from '../support/udp';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A port range of its own per test, found free at the time. */
async function allocator(pairs = 4): Promise<PortAllocator> {
  const base = (await freeUdpPort()) & ~1;
  return new PortAllocator({ first: base, last: base + pairs * 2 - 1 });
}

async function openIngest(hostId = 'host-a', video?: { codec: 'VP8' | 'H264'; payloadType: number }) {
  const ingest = await HostIngest.open({ livestreamId: 'ls-1', hostId, address: '127.0.0.1', allocator: await allocator(), ...(video ? { video } : {}) });
  const events: IngestEvent[] = [];
  ingest.on('event', (e) => events.push(e));
  cleanups.push(() => ingest.close());
  return { ingest, events };
}

async function sender(ingest: HostIngest, extra: Partial<MockSfuOptions> = {}, codec: 'VP8' | 'H264' = 'VP8'): Promise<MockSfu> {
  const ep = ingest.describe();
  const sfu = await MockSfu.create({
    hosts: [{ hostId: ingest.hostId, address: ep.address, video: { port: ep.video.port, payloadType: ep.video.payloadType, codec }, audio: { port: ep.audio.port, payloadType: ep.audio.payloadType } }],
    clipSeconds: 4,
    ...extra,
  });
  cleanups.push(() => sfu.stop().catch(() => undefined));
  return sfu;
}

describe('RTP ingest with the mock SFU', { timeout: 120_000 }, () => {
  it('fans every packet out to every subscriber, subscribing and unsubscribing at runtime', async () => {
    const { ingest } = await openIngest();
    const subs = await Promise.all([RtpRecorder.open(), RtpRecorder.open(), RtpRecorder.open(), RtpRecorder.open()]);
    cleanups.push(async () => void (await Promise.all(subs.map((s) => s.close()))));
    const [compV, compA, indV, indA] = subs as [RtpRecorder, RtpRecorder, RtpRecorder, RtpRecorder];
    ingest.subscribe('composite', { video: { rtpPort: compV.port }, audio: { rtpPort: compA.port } });
    ingest.subscribe('individual', { video: { rtpPort: indV.port }, audio: { rtpPort: indA.port } });
    const sfu = await sender(ingest);
    sfu.start();
    await sleep(2500);
    ingest.unsubscribe('individual');
    const indAtUnsubscribe = indV.keys.length + indA.keys.length;
    await sleep(1000);
    await sfu.stop();
    await sleep(300);
    const sent = sfu.stats()['host-a']!;
    const st = ingest.stats();
    assert.equal(st.video.packets, sent.video.packets);
    assert.equal(st.audio.packets, sent.audio.packets);
    assert.equal(st.video.lost + st.video.duplicates + st.video.malformed, 0);
    // the composite saw every packet the sender sent, in order, exactly once
    assert.equal(compV.keys.length, sent.video.packets);
    assert.equal(compA.keys.length, sent.audio.packets);
    assert.equal(new Set(compV.keys).size, compV.keys.length);
    assert.ok(!compV.keys.includes('invalid'));
    // the individual recording saw the same packets up to its unsubscription, then nothing
    assert.ok(indV.keys.length > 50 && indA.keys.length > 50);
    assert.deepEqual(indV.keys, compV.keys.slice(0, indV.keys.length));
    assert.ok(indV.keys.length + indA.keys.length - indAtUnsubscribe <= 2, 'at most packets in flight arrive after unsubscribe');
    assert.ok(compV.keys.length > indV.keys.length + 20);
    assert.deepEqual(st.subscribers, ['composite']);
  });

  it('counts seeded loss, reordering and duplicates exactly as injected, and forwards no duplicates', async () => {
    const { ingest } = await openIngest();
    const video = await RtpRecorder.open();
    cleanups.push(() => video.close());
    ingest.subscribe('composite', { video: { rtpPort: video.port } });
    const sfu = await sender(ingest, { faults: { loss: 0.05, reorder: 0.05, duplicate: 0.05, seed: 42 } });
    sfu.start();
    await sleep(4000);
    await sfu.stop();
    // Wait until nothing more arrives (a loaded machine can hold the last datagrams back a while).
    let last = -1;
    for (let i = 0; i < 30; i++) {
      await sleep(200);
      const now = ingest.stats().video.packets + ingest.stats().audio.packets + video.keys.length;
      if (now === last) break;
      last = now;
    }
    const sent = sfu.stats()['host-a']!;
    const st = ingest.stats();
    for (const m of ['video', 'audio'] as const) {
      assert.ok(sent[m].dropped > 3 && sent[m].reordered > 3 && sent[m].duplicated > 3, `faults were injected: ${JSON.stringify(sent[m])}`);
      assert.equal(st[m].lost, sent[m].visibleLoss, `${m} loss`);
      assert.equal(st[m].reordered, sent[m].reordered, `${m} reordered`);
      assert.equal(st[m].duplicates, sent[m].duplicated, `${m} duplicates`);
      assert.equal(st[m].packets, sent[m].packets - sent[m].dropped + sent[m].duplicated, `${m} packets`);
    }
    assert.equal(video.keys.length, sent.video.packets - sent.video.dropped);
    assert.equal(new Set(video.keys).size, video.keys.length);
  });

  it('survives and reports an undeclared payload type, an SSRC change and malformed packets', async () => {
    const { ingest, events } = await openIngest('host-b', { codec: 'H264', payloadType: 102 });
    const video = await RtpRecorder.open();
    cleanups.push(() => video.close());
    ingest.subscribe('individual', { video: { rtpPort: video.port } });
    const sfu = await sender(ingest, {}, 'H264');
    sfu.start();
    await sleep(1200);
    sfu.sendUndeclaredPayloadType('host-b', 'video', 97, 5);
    sfu.sendUndeclaredPayloadType('host-b', 'video', 97, 5);
    const malformed = sfu.sendMalformed('host-b', 'audio');
    await sleep(500);
    const before = video.keys.length;
    const newSsrc = sfu.changeSsrc('host-b', 'video');
    await sleep(1200);
    await sfu.stop();
    await sleep(300);
    const st = ingest.stats();
    assert.equal(st.video.undeclaredPayloadType, 10);
    assert.equal(events.filter((e) => e.type === 'undeclared-payload-type').length, 1, 'reported once');
    const pt = events.find((e) => e.type === 'undeclared-payload-type');
    assert.ok(pt?.type === 'undeclared-payload-type' && pt.payloadType === 97 && pt.declared === 102 && pt.hostId === 'host-b');
    assert.equal(st.video.ssrcChanges, 1);
    const change = events.find((e) => e.type === 'ssrc-change');
    assert.ok(change?.type === 'ssrc-change' && change.to === newSsrc && change.medium === 'video');
    assert.equal(st.video.ssrc, newSsrc);
    assert.equal(st.audio.malformed, malformed);
    assert.ok(events.filter((e) => e.type === 'malformed').length >= 3);
    // the stream went on: packets of the new SSRC were forwarded, and the SSRC change cost no "loss"
    assert.ok(video.keys.slice(before).some((k) => k.startsWith(`${newSsrc}:`)));
    assert.equal(st.video.lost, 0);
    assert.equal(video.keys.filter((k) => k.startsWith('invalid')).length, 0);
  });

  for (const [rtcp, lag] of [['next-port', 120], ['mux', -80]] as const) {
    it(`estimates lip sync from sender reports (RTCP ${rtcp}, audio sent ${lag} ms after video)`, async () => {
      const { ingest, events } = await openIngest();
      const sfu = await sender(ingest, { rtcp, audioLagMs: lag, rtcpIntervalMs: 500 });
      sfu.start();
      await sleep(3000);
      await sfu.stop();
      const syncs = events.filter((e) => e.type === 'sync');
      assert.ok(syncs.length >= 1, 'a sync event');
      // audioDelayMs = transit(video) − transit(audio): audio arriving late asks to delay the video
      const last = ingest.stats().audioDelayMs;
      assert.ok(last !== null && Math.abs(last - -lag) <= 10, `audioDelayMs ${last}, expected ${-lag} ± 10`);
      assert.ok(syncs.length <= 6, `not chattering: ${syncs.length} events`);
      assert.ok(ingest.stats().video.senderReports >= 4 && ingest.stats().audio.senderReports >= 4);
      const lastEvent = syncs[syncs.length - 1]!;
      assert.ok(lastEvent.type === 'sync');
      assert.deepEqual(setSyncCommand(lastEvent), { type: 'set-sync', hostId: 'host-a', audioDelayMs: last });
    });
  }

  it('estimates nothing without RTCP, and reports silence after the sender stops', async () => {
    const { ingest, events } = await openIngest();
    const sfu = await sender(ingest, { rtcp: 'none', audioLagMs: 120 });
    sfu.start();
    await sleep(1500);
    assert.ok(ingest.silenceMs() < 200);
    await sfu.stop();
    await sleep(600);
    assert.equal(events.filter((e) => e.type === 'sync').length, 0);
    assert.equal(ingest.stats().audioDelayMs, null);
    assert.ok(ingest.silenceMs('video') >= 500 && ingest.silenceMs('audio') >= 500);
  });

  it('camera off stops video, and camera on resumes it at a keyframe', async () => {
    const { ingest } = await openIngest();
    const video = await RtpRecorder.open();
    cleanups.push(() => video.close());
    ingest.subscribe('composite', { video: { rtpPort: video.port } });
    const sfu = await sender(ingest);
    sfu.start();
    await sleep(1200);
    sfu.camera('host-a', false);
    const framesOff = sfu.stats()['host-a']!.video.frames;
    await sleep(800);
    assert.equal(sfu.stats()['host-a']!.video.frames, framesOff);
    assert.ok(ingest.silenceMs('video') >= 600 && ingest.silenceMs('audio') < 200);
    const packetsOff = video.packets.length;
    sfu.camera('host-a', true);
    await sleep(1500);
    await sfu.stop();
    assert.ok(sfu.stats()['host-a']!.video.frames > framesOff + 10);
    // the first packet after camera-on starts a VP8 key frame: S bit in the descriptor, P bit 0 in the frame tag
    const first = parseRtp(video.packets[packetsOff]!.data);
    assert.ok(first.ok);
    assert.equal(first.value.payload[0]! & 0x10, 0x10);
    assert.equal(first.value.payload[4]! & 0x01, 0, 'resumed on a key frame');
    assert.ok(video.packets[packetsOff]!.at - video.packets[packetsOff - 1]!.at >= 700, 'video paused while the camera was off');
    assert.equal(ingest.stats().video.lost, 0);
  });

  it('allocates even port pairs, reports exhaustion clearly and reuses released ports', async () => {
    const alloc = await allocator(2); // room for exactly one host (video + audio)
    const first = await HostIngest.open({ livestreamId: 'ls-1', hostId: 'a', address: '127.0.0.1', allocator: alloc });
    const ep = first.describe();
    assert.equal(ep.video.port % 2, 0);
    assert.equal(ep.video.rtcpPort, ep.video.port + 1);
    assert.deepEqual([ep.video.codec, ep.video.payloadType, ep.audio.codec, ep.audio.payloadType], ['VP8', 96, 'OPUS', 111]);
    await assert.rejects(HostIngest.open({ livestreamId: 'ls-1', hostId: 'b', address: '127.0.0.1', allocator: alloc }), PortRangeExhaustedError);
    assert.equal(alloc.used, 2, 'a failed open gives its ports back');
    await first.close();
    const second = await HostIngest.open({ livestreamId: 'ls-1', hostId: 'b', address: '127.0.0.1', allocator: alloc });
    assert.deepEqual([second.describe().video.port, second.describe().audio.port].sort(), [ep.video.port, ep.audio.port].sort());
    await second.close();
  });
});
