// The mock SFU's container readers and RTP packetizers on hand-made inputs: IVF, Annex-B access
// units, Ogg page reassembly, Opus TOC durations, VP8 descriptors, H.264 single NAL / FU-A / STAP-A
// and mode 0, and the seeded fault RNG.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { opusPacketSamples, readAnnexB, readIvf, readOggOpus, splitAnnexB } from '../../apps/mock-sfu/containers';
import { H264Packetizer, OpusPacketizer, Vp8Packetizer } from '../../apps/mock-sfu/packetizers';
import { seededRandom } from '../../apps/mock-sfu/sender';

function ivf(frames: Buffer[]): Buffer {
  const header = Buffer.alloc(32);
  header.write('DKIF', 0, 'latin1');
  header.writeUInt16LE(32, 6);
  header.write('VP80', 8, 'latin1');
  header.writeUInt16LE(640, 12);
  header.writeUInt16LE(480, 14);
  header.writeUInt32LE(30, 16);
  header.writeUInt32LE(1, 20);
  return Buffer.concat([header, ...frames.flatMap((f, i) => {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(f.length, 0);
    h.writeBigUInt64LE(BigInt(i), 4);
    return [h, f];
  })]);
}

function oggPage(serial: number, seq: number, segments: number[], data: Buffer): Buffer {
  const h = Buffer.alloc(27);
  h.write('OggS', 0, 'latin1');
  h.writeUInt32LE(serial, 14);
  h.writeUInt32LE(seq, 18);
  h[26] = segments.length;
  return Buffer.concat([h, Buffer.from(segments), data]);
}

/** Reassembles FU-A fragments the way a depayloader does. */
function reassemble(payloads: Buffer[]): Buffer[] {
  const nals: Buffer[] = [];
  let fu: Buffer[] = [];
  for (const p of payloads) {
    const type = p[0]! & 0x1f;
    if (type === 28) {
      if (p[1]! & 0x80) fu = [Buffer.from([(p[0]! & 0xe0) | (p[1]! & 0x1f)])];
      fu.push(p.subarray(2));
      if (p[1]! & 0x40) nals.push(Buffer.concat(fu));
    } else if (type === 24) {
      for (let o = 1; o < p.length; ) {
        const len = p.readUInt16BE(o);
        nals.push(p.subarray(o + 2, o + 2 + len));
        o += 2 + len;
      }
    } else nals.push(p);
  }
  return nals;
}

describe('mock SFU containers', () => {
  it('reads IVF frames with timestamps and key frame flags', () => {
    const clip = readIvf(ivf([Buffer.from([0x10, 1, 2]), Buffer.from([0x11, 3])]));
    assert.equal(clip.width, 640);
    assert.deepEqual(clip.frames.map((f) => [f.pts, f.keyframe, f.data.length]), [[0, true, 3], [1 / 30, false, 2]]);
    assert.throws(() => readIvf(Buffer.alloc(40)));
  });

  it('splits Annex-B at 3- and 4-byte start codes and groups access units at AUDs', () => {
    const sc4 = Buffer.from([0, 0, 0, 1]);
    const sc3 = Buffer.from([0, 0, 1]);
    const aud = Buffer.from([0x09, 0xf0]);
    const sps = Buffer.from([0x67, 1, 2]);
    const pps = Buffer.from([0x68, 3]);
    const idr = Buffer.from([0x65, 4, 5, 0]); // a trailing zero byte inside a NAL is data only before a start code
    const slice = Buffer.from([0x41, 6]);
    const stream = Buffer.concat([sc4, aud, sc4, sps, sc4, pps, sc3, idr, Buffer.from([7]), sc4, aud, sc3, slice, sc3, slice]);
    assert.equal(splitAnnexB(stream).length, 7);
    const frames = readAnnexB(stream, 30);
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.keyframe, true);
    assert.deepEqual(frames[0]!.nals!.map((n) => n[0]! & 0x1f), [7, 8, 5]);
    assert.equal(frames[1]!.keyframe, false);
    assert.equal(frames[1]!.nals!.length, 2);
    assert.equal(frames[1]!.pts, 1 / 30);
    assert.throws(() => readAnnexB(Buffer.concat([sc4, sps, sc4, slice]), 30), /delimiters/);
  });

  it('reassembles Ogg packets across pages and reads OpusHead', () => {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1;
    head[9] = 1;
    head.writeUInt16LE(312, 10);
    const tags = Buffer.from('OpusTags\0\0\0\0\0\0\0\0', 'latin1');
    const big = Buffer.alloc(300, 0x08); // TOC 0x08: config 1 (SILK 20 ms), one frame
    const small = Buffer.from([0x08, 1, 2]);
    const file = Buffer.concat([
      oggPage(7, 0, [19], head),
      oggPage(7, 1, [tags.length], tags),
      oggPage(7, 2, [255], big.subarray(0, 255)), // continues on the next page
      oggPage(9, 0, [4], Buffer.alloc(4)), // another logical stream: ignored
      oggPage(7, 3, [45, 3], Buffer.concat([big.subarray(255), small])),
    ]);
    const clip = readOggOpus(file);
    assert.equal(clip.preSkip, 312);
    assert.equal(clip.channels, 1);
    assert.deepEqual(clip.packets.map((p) => [p.data.length, p.samples]), [[300, 960], [3, 960]]);
  });

  it('computes Opus packet durations from the TOC byte', () => {
    assert.equal(opusPacketSamples(Buffer.from([(31 << 3) | 0])), 960); // CELT 20 ms
    assert.equal(opusPacketSamples(Buffer.from([(16 << 3) | 0])), 120); // CELT 2.5 ms
    assert.equal(opusPacketSamples(Buffer.from([(3 << 3) | 1])), 2 * 2880); // SILK 60 ms, two frames
    assert.equal(opusPacketSamples(Buffer.from([(13 << 3) | 3, 3])), 3 * 960); // hybrid 20 ms, code 3 with 3 frames
  });
});

describe('mock SFU packetizers', () => {
  it('VP8: descriptor with S bit and picture id, split under the MTU, marker on the last', () => {
    const p = new Vp8Packetizer(200, 0x7ffe);
    const frame = Buffer.alloc(500, 7);
    const out = p.packetize(frame);
    const payloads = out.map((o) => Buffer.concat(o.data));
    assert.ok(payloads.every((b) => b.length + 12 <= 200));
    assert.deepEqual(out.map((o) => o.marker), [false, false, true]);
    assert.deepEqual(payloads.map((b) => b[0]! & 0x10), [0x10, 0, 0]);
    assert.equal(payloads[0]!.readUInt16BE(2) & 0x7fff, 0x7ffe);
    assert.deepEqual(Buffer.concat(payloads.map((b) => b.subarray(4))), frame);
    const next = Buffer.concat(p.packetize(Buffer.alloc(10))[0]!.data);
    assert.equal(next.readUInt16BE(2) & 0x7fff, 0x7fff);
    const wrapped = Buffer.concat(p.packetize(Buffer.alloc(10))[0]!.data);
    assert.equal(wrapped.readUInt16BE(2) & 0x7fff, 0, 'picture id wraps at 15 bits');
  });

  it('H.264 mode 1: STAP-A for SPS+PPS, single NAL units, FU-A for big ones; reassembles exactly', () => {
    const sps = Buffer.from([0x67, 1, 2, 3]);
    const pps = Buffer.from([0x68, 4]);
    const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(1000, 9)]);
    const sei = Buffer.from([0x06, 5, 5]);
    const p = new H264Packetizer({ mtu: 300, mode: 1 });
    const out = p.packetize({ pts: 0, keyframe: true, data: Buffer.alloc(0), nals: [sps, pps, sei, idr] });
    const payloads = out.map((o) => Buffer.concat(o.data));
    assert.equal(payloads[0]![0]! & 0x1f, 24, 'STAP-A first');
    assert.ok(payloads.every((b) => b.length + 12 <= 300));
    assert.ok(payloads.slice(2).every((b) => (b[0]! & 0x1f) === 28), 'FU-A for the IDR');
    assert.deepEqual(out.map((o) => o.marker).lastIndexOf(true), out.length - 1);
    assert.equal(out.filter((o) => o.marker).length, 1);
    assert.deepEqual(reassemble(payloads), [sps, pps, sei, idr]);
  });

  it('H.264 mode 0: single NAL units only; what does not fit is skipped and counted', () => {
    const p = new H264Packetizer({ mtu: 300, mode: 0 });
    const small = Buffer.from([0x41, 1, 2]);
    const big = Buffer.concat([Buffer.from([0x41]), Buffer.alloc(400)]);
    const out = p.packetize({ pts: 0, keyframe: false, data: Buffer.alloc(0), nals: [Buffer.from([0x67, 1]), small, big] });
    assert.deepEqual(out.map((o) => Buffer.concat(o.data)[0]! & 0x1f), [7, 1]);
    assert.equal(p.skipped, 1);
  });

  it('Opus: one packet per RTP packet, as is', () => {
    const out = new OpusPacketizer().packetize(Buffer.from([0xfc, 1, 2]));
    assert.equal(out.length, 1);
    assert.deepEqual([...Buffer.concat(out[0]!.data)], [0xfc, 1, 2]);
  });

  it('fault RNG is reproducible per seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const sa = Array.from({ length: 5 }, a);
    assert.deepEqual(sa, Array.from({ length: 5 }, b));
    assert.notDeepEqual(sa, Array.from({ length: 5 }, c));
    assert.ok(sa.every((x) => x >= 0 && x < 1));
  });
});
