// RTP payload formats the mock SFU sends, as a real SFU would forward them from browsers:
// VP8 (RFC 7741), H.264 (RFC 6184, packetization mode 1 with FU-A and STAP-A, or mode 0: single NAL
// units only) and Opus (RFC 7587). Each packetizer turns one frame into RTP payloads; the last one
// carries the marker bit.

import { H264_NAL, type VideoFrame } from './containers';

export interface Payload {
  data: Buffer[];
  marker: boolean;
}

export interface Packetizer {
  /** Payloads of one frame, in order; the caller adds RTP headers. */
  packetize(frame: VideoFrame | Buffer): Payload[];
  /** NAL units or frames that could not be sent in this mode (H.264 mode 0 only). */
  readonly skipped: number;
}

/** Bytes of RTP payload that fit one packet under the MTU (UDP/IP headers excluded by the caller's MTU). */
export function payloadBudget(mtu: number): number {
  return mtu - 12;
}

/**
 * VP8: payload descriptor with a 15-bit PictureID (X=1, I=1, M=1), S=1 on the first packet of
 * the frame, partition index 0 (the whole frame is sent as one partition, as libwebrtc does
 * without partition-aware splitting).
 */
export class Vp8Packetizer implements Packetizer {
  readonly skipped = 0;
  private pictureId: number;

  constructor(
    private readonly mtu = 1200,
    initialPictureId = Math.floor(Math.random() * 0x8000),
  ) {
    this.pictureId = initialPictureId & 0x7fff;
  }

  packetize(frame: VideoFrame | Buffer): Payload[] {
    const data = Buffer.isBuffer(frame) ? frame : frame.data;
    const max = payloadBudget(this.mtu) - 4;
    const out: Payload[] = [];
    for (let offset = 0; offset < data.length || offset === 0; offset += max) {
      const first = offset === 0;
      const descriptor = Buffer.from([0x80 | (first ? 0x10 : 0), 0x80, 0x80 | (this.pictureId >> 8), this.pictureId & 0xff]);
      const chunk = data.subarray(offset, Math.min(offset + max, data.length));
      out.push({ data: [descriptor, chunk], marker: offset + max >= data.length });
      if (data.length === 0) break;
    }
    this.pictureId = (this.pictureId + 1) & 0x7fff;
    return out;
  }
}

export interface H264PacketizerOptions {
  mtu?: number;
  /** 1: single NAL units, FU-A for big ones, STAP-A for SPS+PPS. 0: single NAL units only. */
  mode?: 0 | 1;
  /** Aggregate SPS and PPS into one STAP-A (mode 1). */
  stapA?: boolean;
}

export class H264Packetizer implements Packetizer {
  skipped = 0;
  private readonly mtu: number;
  private readonly mode: 0 | 1;
  private readonly stapA: boolean;

  constructor(options: H264PacketizerOptions = {}) {
    this.mtu = options.mtu ?? 1200;
    this.mode = options.mode ?? 1;
    this.stapA = options.stapA ?? true;
  }

  packetize(frame: VideoFrame | Buffer): Payload[] {
    if (Buffer.isBuffer(frame) || !frame.nals) throw new Error('H.264 packetizer needs the access unit NAL units');
    const max = payloadBudget(this.mtu);
    const out: Array<Buffer[]> = [];
    let nals = frame.nals;
    if (this.mode === 1 && this.stapA) {
      const params = nals.filter((n) => isParameterSet(n));
      const size = params.reduce((s, n) => s + 2 + n.length, 1);
      if (params.length > 1 && size <= max) {
        out.push(stapA(params));
        nals = nals.filter((n) => !isParameterSet(n));
      }
    }
    for (const nal of nals) {
      if (nal.length <= max) out.push([nal]);
      else if (this.mode === 1) out.push(...fuA(nal, max));
      else this.skipped++; // mode 0 cannot fragment: the encoder must keep slices under the MTU
    }
    return out.map((data, i) => ({ data, marker: i === out.length - 1 }));
  }
}

function isParameterSet(nal: Buffer): boolean {
  const type = nal[0]! & 0x1f;
  return type === H264_NAL.SPS || type === H264_NAL.PPS;
}

function stapA(nals: Buffer[]): Buffer[] {
  const nri = Math.max(...nals.map((n) => n[0]! & 0x60));
  const parts: Buffer[] = [Buffer.from([nri | 24])];
  for (const n of nals) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(n.length, 0);
    parts.push(len, n);
  }
  return parts;
}

function fuA(nal: Buffer, max: number): Buffer[][] {
  const indicator = (nal[0]! & 0xe0) | 28;
  const type = nal[0]! & 0x1f;
  const body = nal.subarray(1);
  const chunk = max - 2;
  const out: Buffer[][] = [];
  for (let offset = 0; offset < body.length; offset += chunk) {
    const start = offset === 0;
    const end = offset + chunk >= body.length;
    out.push([Buffer.from([indicator, (start ? 0x80 : 0) | (end ? 0x40 : 0) | type]), body.subarray(offset, offset + chunk)]);
  }
  return out;
}

/** Opus: one Opus packet per RTP packet, as is (RFC 7587 §4.2). */
export class OpusPacketizer implements Packetizer {
  readonly skipped = 0;

  packetize(frame: VideoFrame | Buffer): Payload[] {
    const data = Buffer.isBuffer(frame) ? frame : frame.data;
    return [{ data: [data], marker: false }];
  }
}
