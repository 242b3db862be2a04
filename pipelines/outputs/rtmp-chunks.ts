// RTMP's chunk stream (Adobe RTMP 1.0, section 5.3): messages cut into chunks on the way out and
// put back together on the way in, with the protocol control messages a publisher deals with. Pure.

export const MSG_SET_CHUNK_SIZE = 1;
export const MSG_ABORT = 2;
export const MSG_ACK = 3;
export const MSG_USER_CONTROL = 4;
export const MSG_WINDOW_ACK_SIZE = 5;
export const MSG_SET_PEER_BANDWIDTH = 6;
export const MSG_AUDIO = 8;
export const MSG_VIDEO = 9;
export const MSG_DATA_AMF0 = 18;
export const MSG_COMMAND_AMF0 = 20;

/** User control events (section 6.2 / 7.1.7). */
export const UC_PING_REQUEST = 6;
export const UC_PING_RESPONSE = 7;

export const DEFAULT_CHUNK_SIZE = 128;
const EXTENDED = 0xffffff;

export interface RtmpMessage {
  /** Chunk stream id (2: protocol control, 3: commands, 4+: the stream's data). */
  csid: number;
  type: number;
  /** Message stream id (0 for connection-level messages). */
  streamId: number;
  /** Milliseconds, modulo 2^32. */
  timestamp: number;
  payload: Buffer;
}

export class RtmpProtocolError extends Error {}

function basicHeaderSize(csid: number): number {
  if (csid < 2 || csid > 65599) throw new RtmpProtocolError(`chunk stream id ${csid} out of range`);
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function putBasicHeader(out: Buffer, pos: number, fmt: number, csid: number): number {
  if (csid < 64) {
    out[pos] = (fmt << 6) | csid;
    return pos + 1;
  }
  if (csid < 320) {
    out[pos] = fmt << 6;
    out[pos + 1] = csid - 64;
    return pos + 2;
  }
  out[pos] = (fmt << 6) | 1;
  out[pos + 1] = (csid - 64) & 0xff;
  out[pos + 2] = (csid - 64) >> 8;
  return pos + 3;
}

/** Bytes `m` takes as chunks of at most `chunkSize` payload bytes. */
function encodedSize(m: RtmpMessage, chunkSize: number): number {
  const ext = m.timestamp >>> 0 >= EXTENDED ? 4 : 0;
  const chunks = Math.max(1, Math.ceil(m.payload.length / chunkSize));
  return chunks * (basicHeaderSize(m.csid) + ext) + 11 + m.payload.length;
}

/**
 * Messages as chunks of at most `chunkSize` payload bytes, in one buffer (one socket write): a
 * type-0 header (absolute timestamp) and type-3 continuations, each with the extended timestamp
 * when it is needed. Written byte by byte into one allocation: this runs for every FLV tag of every
 * destination, on the pipeline host's event loop.
 */
export function encodeMessages(messages: readonly RtmpMessage[], chunkSize: number): Buffer {
  let total = 0;
  for (const m of messages) total += encodedSize(m, chunkSize);
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const m of messages) {
    const ts = m.timestamp >>> 0;
    const extended = ts >= EXTENDED;
    const field = extended ? EXTENDED : ts;
    const len = m.payload.length;
    pos = putBasicHeader(out, pos, 0, m.csid);
    out[pos] = (field >>> 16) & 0xff;
    out[pos + 1] = (field >>> 8) & 0xff;
    out[pos + 2] = field & 0xff;
    out[pos + 3] = (len >>> 16) & 0xff;
    out[pos + 4] = (len >>> 8) & 0xff;
    out[pos + 5] = len & 0xff;
    out[pos + 6] = m.type;
    out.writeUInt32LE(m.streamId >>> 0, pos + 7);
    pos += 11;
    if (extended) pos = out.writeUInt32BE(ts, pos);
    for (let off = 0; off < len; off += chunkSize) {
      if (off > 0) {
        pos = putBasicHeader(out, pos, 3, m.csid);
        if (extended) pos = out.writeUInt32BE(ts, pos);
      }
      const end = Math.min(len, off + chunkSize);
      pos += m.payload.copy(out, pos, off, end);
    }
  }
  return out;
}

export function encodeMessage(m: RtmpMessage, chunkSize: number): Buffer {
  return encodeMessages([m], chunkSize);
}

/** A protocol control message whose payload is one 32-bit number (chunk stream 2, stream 0). */
function controlMessage(type: number, value: number): RtmpMessage {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(value >>> 0);
  return { csid: 2, type, streamId: 0, timestamp: 0, payload };
}

export const setChunkSizeMessage = (size: number): RtmpMessage => controlMessage(MSG_SET_CHUNK_SIZE, size & 0x7fffffff);
export const ackMessage = (bytesReceived: number): RtmpMessage => controlMessage(MSG_ACK, bytesReceived);
export const windowAckSizeMessage = (size: number): RtmpMessage => controlMessage(MSG_WINDOW_ACK_SIZE, size);

export function pingResponseMessage(timestamp: Buffer): RtmpMessage {
  const payload = Buffer.alloc(6);
  payload.writeUInt16BE(UC_PING_RESPONSE);
  timestamp.copy(payload, 2, 0, 4);
  return { csid: 2, type: MSG_USER_CONTROL, streamId: 0, timestamp: 0, payload };
}

interface InStream {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  extended: boolean;
  parts: Buffer[];
  received: number;
}

/** Puts the peer's chunks back together into messages; follows its Set Chunk Size and Abort. */
export class ChunkReader {
  private pending: Buffer = Buffer.alloc(0);
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, InStream>();

  push(bytes: Buffer): RtmpMessage[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    const out: RtmpMessage[] = [];
    for (;;) {
      const m = this.next();
      if (m === undefined) break;
      if (m) out.push(m);
    }
    return out;
  }

  /** The next message, null for a chunk that did not complete one, undefined when more bytes are needed. */
  private next(): RtmpMessage | null | undefined {
    const b = this.pending;
    if (b.length < 1) return undefined;
    const fmt = b[0]! >> 6;
    let csid = b[0]! & 0x3f;
    let pos = 1;
    if (csid === 0) {
      if (b.length < 2) return undefined;
      csid = 64 + b[1]!;
      pos = 2;
    } else if (csid === 1) {
      if (b.length < 3) return undefined;
      csid = 64 + b[1]! + b[2]! * 256;
      pos = 3;
    }
    const headerLen = [11, 7, 3, 0][fmt]!;
    if (b.length < pos + headerLen) return undefined;
    const prev = this.streams.get(csid);
    if (fmt !== 0 && !prev) throw new RtmpProtocolError(`chunk of type ${fmt} on chunk stream ${csid} before any type-0 chunk`);
    const s: InStream = prev ? { ...prev } : { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, parts: [], received: 0 };
    let field = 0;
    if (fmt <= 2) field = b.readUIntBE(pos, 3);
    if (fmt <= 1) {
      s.length = b.readUIntBE(pos + 3, 3);
      s.type = b[pos + 6]!;
    }
    if (fmt === 0) s.streamId = b.readUInt32LE(pos + 7);
    pos += headerLen;
    const extended = fmt <= 2 ? field === EXTENDED : s.extended;
    if (extended) {
      if (b.length < pos + 4) return undefined;
      field = b.readUInt32BE(pos);
      pos += 4;
    }
    const starting = s.received === 0;
    if (fmt <= 2) s.extended = extended;
    if (starting) {
      if (fmt === 0) {
        s.timestamp = field;
        s.delta = 0;
      } else if (fmt <= 2) {
        s.delta = field;
        s.timestamp = (s.timestamp + field) >>> 0;
      } else {
        s.timestamp = (s.timestamp + s.delta) >>> 0;
      }
    }
    const take = Math.min(this.chunkSize, s.length - s.received);
    if (b.length < pos + take) return undefined;
    s.parts = starting ? [b.subarray(pos, pos + take)] : [...s.parts, b.subarray(pos, pos + take)];
    s.received += take;
    this.pending = b.subarray(pos + take);
    if (s.received < s.length) {
      this.streams.set(csid, s);
      return null;
    }
    const payload = Buffer.concat(s.parts);
    this.streams.set(csid, { ...s, parts: [], received: 0 });
    const m: RtmpMessage = { csid, type: s.type, streamId: s.streamId, timestamp: s.timestamp, payload };
    if (m.type === MSG_SET_CHUNK_SIZE && payload.length >= 4) {
      const size = payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1) throw new RtmpProtocolError(`peer set chunk size ${size}`);
      this.chunkSize = size;
    }
    if (m.type === MSG_ABORT && payload.length >= 4) {
      const aborted = this.streams.get(payload.readUInt32BE(0));
      if (aborted) this.streams.set(payload.readUInt32BE(0), { ...aborted, parts: [], received: 0 });
    }
    return m;
  }
}
