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

function basicHeader(fmt: number, csid: number): Buffer {
  if (csid < 2 || csid > 65599) throw new RtmpProtocolError(`chunk stream id ${csid} out of range`);
  if (csid < 64) return Buffer.from([(fmt << 6) | csid]);
  if (csid < 320) return Buffer.from([fmt << 6, csid - 64]);
  return Buffer.from([(fmt << 6) | 1, (csid - 64) & 0xff, (csid - 64) >> 8]);
}

/**
 * One message as chunks of at most `chunkSize` payload bytes: a type-0 header (absolute
 * timestamp) and type-3 continuations, each with the extended timestamp when it is needed.
 */
export function encodeMessage(m: RtmpMessage, chunkSize: number): Buffer {
  const ts = m.timestamp >>> 0;
  const extended = ts >= EXTENDED;
  const head = Buffer.alloc(11 + (extended ? 4 : 0));
  head.writeUIntBE(extended ? EXTENDED : ts, 0, 3);
  head.writeUIntBE(m.payload.length, 3, 3);
  head[6] = m.type;
  head.writeUInt32LE(m.streamId >>> 0, 7);
  if (extended) head.writeUInt32BE(ts, 11);
  const parts: Buffer[] = [basicHeader(0, m.csid), head];
  const cont = basicHeader(3, m.csid);
  const ext = extended ? head.subarray(11) : null;
  for (let off = 0; off < m.payload.length || off === 0; off += chunkSize) {
    if (off > 0) parts.push(ext ? Buffer.concat([cont, ext]) : cont);
    parts.push(m.payload.subarray(off, off + chunkSize));
    if (m.payload.length === 0) break;
  }
  return Buffer.concat(parts);
}

export function setChunkSizeMessage(size: number): RtmpMessage {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(size & 0x7fffffff);
  return { csid: 2, type: MSG_SET_CHUNK_SIZE, streamId: 0, timestamp: 0, payload };
}

export function ackMessage(bytesReceived: number): RtmpMessage {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(bytesReceived >>> 0);
  return { csid: 2, type: MSG_ACK, streamId: 0, timestamp: 0, payload };
}

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
