// RTP and RTCP wire formats (RFC 3550) for the ingest and the mock SFU: parsing with validation
// (malformed packets are reported, never thrown), RFC 5761 demultiplexing of RTCP sent on the RTP
// port, and the few builders the test sender needs. Pure functions on Buffers; no sockets here.

export const RTP_VERSION = 2;
export const RTP_HEADER_BYTES = 12;

/** RTCP packet types (RFC 3550 §12.1). */
export const RTCP = { SR: 200, RR: 201, SDES: 202, BYE: 203, APP: 204 } as const;

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** Header extension (RFC 3550 §5.3.1 / RFC 8285), when present. */
  extension?: { profile: number; data: Buffer };
  /** Payload without the header, extension and padding (a view on the datagram). */
  payload: Buffer;
  paddingBytes: number;
}

export interface ReportBlock {
  ssrc: number;
  fractionLost: number;
  /** Cumulative number of packets lost, signed 24-bit. */
  cumulativeLost: number;
  highestSequence: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export type RtcpPacket =
  | {
      type: 'sr';
      ssrc: number;
      /** NTP timestamp, seconds since 1900 and the 32-bit fraction. */
      ntpSeconds: number;
      ntpFraction: number;
      rtpTimestamp: number;
      packetCount: number;
      octetCount: number;
      reports: ReportBlock[];
    }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: Array<{ ssrc: number; items: Array<{ type: number; value: string }> }> }
  | { type: 'bye'; ssrcs: number[]; reason?: string }
  | { type: 'app'; ssrc: number; subtype: number; name: string; data: Buffer }
  | { type: 'other'; packetType: number; body: Buffer };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * RFC 5761 §4: on a port shared by RTP and RTCP, the second byte tells them apart; RTCP packet
 * types 192-223 fall where RTP would have marker+payload type 64-95, which RTP must not use.
 */
export function isRtcp(datagram: Buffer): boolean {
  if (datagram.length < 2) return false;
  const pt = datagram[1]!;
  return pt >= 192 && pt <= 223;
}

export function parseRtp(buf: Buffer): ParseResult<RtpPacket> {
  if (buf.length < RTP_HEADER_BYTES) return bad('shorter than the RTP header');
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  if (b0 >> 6 !== RTP_VERSION) return bad(`version ${b0 >> 6}`);
  const padding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + 4 * csrcCount;
  if (buf.length < offset) return bad('CSRC list runs past the end');
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(buf.readUInt32BE(RTP_HEADER_BYTES + 4 * i));
  let extension: RtpPacket['extension'];
  if (hasExtension) {
    if (buf.length < offset + 4) return bad('extension header runs past the end');
    const profile = buf.readUInt16BE(offset);
    const words = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + 4 * words;
    if (buf.length < end) return bad('extension runs past the end');
    extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let paddingBytes = 0;
  if (padding) {
    paddingBytes = buf[buf.length - 1]!;
    if (paddingBytes === 0) return bad('padding count of zero');
    if (offset + paddingBytes > buf.length) return bad('padding longer than the payload');
  }
  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    payload: buf.subarray(offset, buf.length - paddingBytes),
    paddingBytes,
  };
  if (extension) packet.extension = extension;
  return { ok: true, value: packet };
}

function parseReportBlocks(buf: Buffer, offset: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++, offset += 24) {
    const lostRaw = buf.readUIntBE(offset + 5, 3);
    blocks.push({
      ssrc: buf.readUInt32BE(offset),
      fractionLost: buf[offset + 4]!,
      cumulativeLost: lostRaw & 0x800000 ? lostRaw - 0x1000000 : lostRaw,
      highestSequence: buf.readUInt32BE(offset + 8),
      jitter: buf.readUInt32BE(offset + 12),
      lastSr: buf.readUInt32BE(offset + 16),
      delaySinceLastSr: buf.readUInt32BE(offset + 20),
    });
  }
  return blocks;
}

/**
 * Parses a compound RTCP packet. Validation follows RFC 3550 Appendix A.2, relaxed for reduced-size
 * RTCP (RFC 5506): every packet has version 2, the lengths add up to the datagram exactly, and
 * padding only on the last packet. Any failure rejects the whole datagram.
 */
export function parseRtcp(buf: Buffer): ParseResult<RtcpPacket[]> {
  if (buf.length < 4) return bad('shorter than an RTCP header');
  const packets: RtcpPacket[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < 4) return bad('trailing bytes after the last RTCP packet');
    const b0 = buf[offset]!;
    if (b0 >> 6 !== RTP_VERSION) return bad(`RTCP version ${b0 >> 6}`);
    const count = b0 & 0x1f;
    const packetType = buf[offset + 1]!;
    const length = (buf.readUInt16BE(offset + 2) + 1) * 4;
    const end = offset + length;
    if (end > buf.length) return bad(`RTCP packet type ${packetType} runs past the end`);
    let bodyEnd = end;
    if (b0 & 0x20) {
      if (end !== buf.length) return bad('padding on an RTCP packet that is not the last');
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > length - 4) return bad('bad RTCP padding');
      bodyEnd = end - pad;
    }
    const body = buf.subarray(offset + 4, bodyEnd);
    switch (packetType) {
      case RTCP.SR: {
        if (body.length < 24 + 24 * count) return bad('sender report shorter than its report count');
        packets.push({
          type: 'sr',
          ssrc: body.readUInt32BE(0),
          ntpSeconds: body.readUInt32BE(4),
          ntpFraction: body.readUInt32BE(8),
          rtpTimestamp: body.readUInt32BE(12),
          packetCount: body.readUInt32BE(16),
          octetCount: body.readUInt32BE(20),
          reports: parseReportBlocks(body, 24, count),
        });
        break;
      }
      case RTCP.RR: {
        if (body.length < 4 + 24 * count) return bad('receiver report shorter than its report count');
        packets.push({ type: 'rr', ssrc: body.readUInt32BE(0), reports: parseReportBlocks(body, 4, count) });
        break;
      }
      case RTCP.SDES: {
        const chunks: Array<{ ssrc: number; items: Array<{ type: number; value: string }> }> = [];
        let p = 0;
        for (let c = 0; c < count; c++) {
          if (p + 4 > body.length) return bad('SDES chunk runs past the end');
          const ssrc = body.readUInt32BE(p);
          p += 4;
          const items: Array<{ type: number; value: string }> = [];
          for (;;) {
            if (p >= body.length) return bad('SDES chunk without its end marker');
            const itemType = body[p]!;
            if (itemType === 0) {
              p = (p + 4) & ~3; // the end marker pads the chunk to a 32-bit boundary
              break;
            }
            if (p + 2 > body.length) return bad('SDES item runs past the end');
            const len = body[p + 1]!;
            if (p + 2 + len > body.length) return bad('SDES item runs past the end');
            items.push({ type: itemType, value: body.toString('utf8', p + 2, p + 2 + len) });
            p += 2 + len;
          }
          chunks.push({ ssrc, items });
        }
        packets.push({ type: 'sdes', chunks });
        break;
      }
      case RTCP.BYE: {
        if (body.length < 4 * count) return bad('BYE shorter than its source count');
        const ssrcs: number[] = [];
        for (let i = 0; i < count; i++) ssrcs.push(body.readUInt32BE(4 * i));
        const bye: RtcpPacket = { type: 'bye', ssrcs };
        const rest = 4 * count;
        if (body.length > rest) {
          const len = body[rest]!;
          if (rest + 1 + len > body.length) return bad('BYE reason runs past the end');
          bye.reason = body.toString('utf8', rest + 1, rest + 1 + len);
        }
        packets.push(bye);
        break;
      }
      case RTCP.APP: {
        if (body.length < 8) return bad('APP packet too short');
        packets.push({ type: 'app', ssrc: body.readUInt32BE(0), subtype: count, name: body.toString('latin1', 4, 8), data: body.subarray(8) });
        break;
      }
      default:
        if (packetType < 192 || packetType > 223) return bad(`packet type ${packetType} is not RTCP`);
        packets.push({ type: 'other', packetType, body });
    }
    offset = end;
  }
  return { ok: true, value: packets };
}

// ---- NTP time --------------------------------------------------------------------------------

/** Unix milliseconds from a 64-bit NTP timestamp (era 0, i.e. until 2036). */
export function ntpToUnixMs(seconds: number, fraction: number): number {
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 0x1_0000_0000) * 1000;
}

export function unixMsToNtp(ms: number): { seconds: number; fraction: number } {
  const totalSeconds = ms / 1000 + NTP_UNIX_OFFSET_S;
  let seconds = Math.floor(totalSeconds);
  let fraction = Math.round((totalSeconds - seconds) * 0x1_0000_0000);
  if (fraction >= 0x1_0000_0000) {
    seconds += 1;
    fraction -= 0x1_0000_0000;
  }
  return { seconds: seconds >>> 0, fraction: fraction >>> 0 };
}

/** Signed difference a − b of two 32-bit RTP timestamps, correct across the wrap. */
export function rtpTimestampDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** Signed difference a − b of two 16-bit sequence numbers, correct across the wrap. */
export function sequenceDelta(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}

// ---- builders (test sender) ---------------------------------------------------------------------

export interface RtpHeaderFields {
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
}

/** Writes a 12-byte RTP header (no CSRCs, no extension) in front of `payload`. */
export function buildRtp(h: RtpHeaderFields, payload: Buffer | Buffer[]): Buffer {
  const parts = Array.isArray(payload) ? payload : [payload];
  const size = parts.reduce((n, p) => n + p.length, RTP_HEADER_BYTES);
  const buf = Buffer.allocUnsafe(size);
  buf[0] = 0x80;
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequence & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
  let offset = RTP_HEADER_BYTES;
  for (const p of parts) {
    p.copy(buf, offset);
    offset += p.length;
  }
  return buf;
}

export interface SenderReportFields {
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

/** A compound RTCP packet: a sender report without report blocks, then SDES with the CNAME. */
export function buildSenderReport(sr: SenderReportFields, cname: string): Buffer {
  const srBuf = Buffer.alloc(28);
  srBuf[0] = 0x80;
  srBuf[1] = RTCP.SR;
  srBuf.writeUInt16BE(28 / 4 - 1, 2);
  srBuf.writeUInt32BE(sr.ssrc >>> 0, 4);
  srBuf.writeUInt32BE(sr.ntpSeconds >>> 0, 8);
  srBuf.writeUInt32BE(sr.ntpFraction >>> 0, 12);
  srBuf.writeUInt32BE(sr.rtpTimestamp >>> 0, 16);
  srBuf.writeUInt32BE(sr.packetCount >>> 0, 20);
  srBuf.writeUInt32BE(sr.octetCount >>> 0, 24);
  const name = Buffer.from(cname, 'utf8').subarray(0, 255);
  // chunk: SSRC, CNAME item (type 1, length, text), end marker, padded to 32 bits
  const chunkLen = (4 + 2 + name.length + 1 + 3) & ~3;
  const sdes = Buffer.alloc(4 + chunkLen);
  sdes[0] = 0x81;
  sdes[1] = RTCP.SDES;
  sdes.writeUInt16BE(sdes.length / 4 - 1, 2);
  sdes.writeUInt32BE(sr.ssrc >>> 0, 4);
  sdes[8] = 1;
  sdes[9] = name.length;
  name.copy(sdes, 10);
  return Buffer.concat([srBuf, sdes]);
}

export function buildBye(ssrc: number): Buffer {
  const buf = Buffer.alloc(8);
  buf[0] = 0x81;
  buf[1] = RTCP.BYE;
  buf.writeUInt16BE(1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  return buf;
}
