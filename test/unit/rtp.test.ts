// RTP/RTCP parsing and validation, RFC 5761 demux, NTP and wrap-around arithmetic.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  buildBye,
  buildRtp,
  buildSenderReport,
  isRtcp,
  ntpToUnixMs,
  parseRtcp,
  parseRtp,
  rtpTimestampDelta,
  sequenceDelta,
  unixMsToNtp,
} from '../../pipelines/ingest/rtp';

const payload = Buffer.from([1, 2, 3, 4, 5]);

describe('RTP parsing', () => {
  it('round-trips a built packet', () => {
    const buf = buildRtp({ payloadType: 96, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, marker: true }, payload);
    const r = parseRtp(buf);
    assert.ok(r.ok);
    assert.equal(r.value.payloadType, 96);
    assert.equal(r.value.sequence, 65535);
    assert.equal(r.value.timestamp, 0xfffffff0);
    assert.equal(r.value.ssrc, 0xdeadbeef);
    assert.equal(r.value.marker, true);
    assert.deepEqual([...r.value.payload], [...payload]);
    assert.equal(isRtcp(buf), false);
  });

  it('reads CSRCs, a header extension and padding', () => {
    const header = Buffer.alloc(12);
    header[0] = 0x80 | 0x20 | 0x10 | 2; // V=2, P, X, CC=2
    header[1] = 111;
    header.writeUInt16BE(7, 2);
    header.writeUInt32BE(1234, 4);
    header.writeUInt32BE(42, 8);
    const csrcs = Buffer.alloc(8);
    csrcs.writeUInt32BE(10, 0);
    csrcs.writeUInt32BE(11, 4);
    const ext = Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00]);
    const pad = Buffer.from([0, 0, 3]);
    const r = parseRtp(Buffer.concat([header, csrcs, ext, payload, pad]));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.csrcs, [10, 11]);
    assert.equal(r.value.extension?.profile, 0xbede);
    assert.equal(r.value.extension?.data.length, 4);
    assert.deepEqual([...r.value.payload], [...payload]);
    assert.equal(r.value.paddingBytes, 3);
  });

  it('rejects malformed packets with a reason', () => {
    const good = buildRtp({ payloadType: 96, sequence: 1, timestamp: 1, ssrc: 1 }, payload);
    const cases: Array<[string, Buffer]> = [];
    cases.push(['short', good.subarray(0, 11)]);
    const v1 = Buffer.from(good);
    v1[0] = 0x40;
    cases.push(['version 1', v1]);
    const cc = Buffer.from(good);
    cc[0] = 0x80 | 5; // 5 CSRCs = 20 bytes, only 5 bytes follow
    cases.push(['CSRC overrun', cc]);
    const ext = Buffer.from(good);
    ext[0] = 0x90; // extension flag, but the 5 payload bytes cannot hold a 4-byte header + words
    ext.writeUInt16BE(4, 14);
    cases.push(['extension overrun', ext]);
    const pad0 = Buffer.concat([good, Buffer.from([0])]);
    pad0[0] = 0xa0;
    cases.push(['padding zero', pad0]);
    const padBig = Buffer.concat([good, Buffer.from([200])]);
    padBig[0] = 0xa0;
    cases.push(['padding overrun', padBig]);
    for (const [name, buf] of cases) assert.equal(parseRtp(buf).ok, false, name);
  });
});

describe('RTCP parsing', () => {
  it('parses a compound SR + SDES and tells it from RTP on a muxed port', () => {
    const buf = buildSenderReport({ ssrc: 99, ntpSeconds: 3_900_000_000, ntpFraction: 0x80000000, rtpTimestamp: 123456, packetCount: 10, octetCount: 1000 }, 'host-a');
    assert.equal(isRtcp(buf), true);
    const r = parseRtcp(buf);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.length, 2);
    const [sr, sdes] = r.value;
    assert.equal(sr?.type, 'sr');
    if (sr?.type === 'sr') {
      assert.equal(sr.ssrc, 99);
      assert.equal(sr.rtpTimestamp, 123456);
      assert.equal(sr.ntpFraction, 0x80000000);
      assert.equal(sr.packetCount, 10);
    }
    assert.equal(sdes?.type, 'sdes');
    if (sdes?.type === 'sdes') assert.deepEqual(sdes.chunks, [{ ssrc: 99, items: [{ type: 1, value: 'host-a' }] }]);
  });

  it('parses RR report blocks (signed cumulative loss) and BYE with a reason', () => {
    const rr = Buffer.alloc(8 + 24);
    rr[0] = 0x81;
    rr[1] = 201;
    rr.writeUInt16BE(rr.length / 4 - 1, 2);
    rr.writeUInt32BE(5, 4);
    rr.writeUInt32BE(77, 8);
    rr[12] = 64;
    rr.writeUIntBE(0xfffffe, 13, 3); // -2
    rr.writeUInt32BE(70000, 16);
    const reason = Buffer.from([4, ...Buffer.from('gone'), 0, 0, 0]);
    const bye = Buffer.concat([buildBye(5), reason]);
    bye.writeUInt16BE(bye.length / 4 - 1, 2);
    const r = parseRtcp(Buffer.concat([rr, bye]));
    assert.ok(r.ok, JSON.stringify(r));
    const [a, b] = r.value;
    assert.ok(a?.type === 'rr');
    assert.equal(a.reports[0]?.ssrc, 77);
    assert.equal(a.reports[0]?.cumulativeLost, -2);
    assert.equal(a.reports[0]?.highestSequence, 70000);
    assert.ok(b?.type === 'bye');
    assert.deepEqual(b.ssrcs, [5]);
    assert.equal(b.reason, 'gone');
  });

  it('rejects bad compound packets', () => {
    const sr = buildSenderReport({ ssrc: 1, ntpSeconds: 1, ntpFraction: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0 }, 'x');
    const truncated = sr.subarray(0, sr.length - 4);
    const trailing = Buffer.concat([sr, Buffer.from([0x80, 200])]);
    const v1 = Buffer.from(sr);
    v1[0] = 0x40;
    const badLen = Buffer.from(sr);
    badLen.writeUInt16BE(100, 2);
    const srShort = Buffer.from(sr.subarray(0, 28));
    srShort[0] = 0x81; // claims one report block it does not have
    for (const [name, buf] of Object.entries({ truncated, trailing, v1, badLen, srShort })) assert.equal(parseRtcp(buf).ok, false, name);
  });
});

describe('time arithmetic', () => {
  it('converts NTP fractions to and from Unix milliseconds', () => {
    assert.equal(ntpToUnixMs(2_208_988_800, 0), 0);
    assert.equal(ntpToUnixMs(2_208_988_801, 0x80000000), 1500);
    assert.equal(ntpToUnixMs(2_208_988_800, 0x40000000), 250);
    const ms = 1_760_000_000_123.25;
    const ntp = unixMsToNtp(ms);
    assert.ok(Math.abs(ntpToUnixMs(ntp.seconds, ntp.fraction) - ms) < 0.001);
  });

  it('takes RTP timestamp and sequence differences across the wrap', () => {
    assert.equal(rtpTimestampDelta(10, 0xfffffff6), 20);
    assert.equal(rtpTimestampDelta(0xfffffff6, 10), -20);
    assert.equal(rtpTimestampDelta(3000, 0), 3000);
    assert.equal(sequenceDelta(2, 65534), 4);
    assert.equal(sequenceDelta(65534, 2), -4);
  });
});
