// The FLV byte stream of the shared mux, read back into tags: the RTMP sender turns each tag into
// one RTMP message. Pure.
//
//   "FLV" version flags offset(4) | prev-size(4) | tag | prev-size(4) | tag | …
//   tag = type(1) size(3) timestamp(3) timestamp-ext(1) stream-id(3) | data(size)

export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_SCRIPT = 18;

const FILE_HEADER = 9;
const PREV_SIZE = 4;
const TAG_HEADER = 11;

export interface FlvTag {
  type: number;
  /** Milliseconds (the 24-bit field and its extension byte). */
  timestamp: number;
  data: Buffer;
}

export class FlvError extends Error {}

/** Reads tags from FLV bytes as they arrive, in pieces of any size. */
export class FlvReader {
  private pending: Buffer = Buffer.alloc(0);
  private headerSeen = false;

  push(bytes: Buffer): FlvTag[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    const tags: FlvTag[] = [];
    let pos = 0;
    const b = this.pending;
    if (!this.headerSeen) {
      if (b.length < FILE_HEADER + PREV_SIZE) return tags;
      if (b.toString('latin1', 0, 3) !== 'FLV') throw new FlvError('the stream does not start with an FLV header');
      pos = b.readUInt32BE(5) + PREV_SIZE;
      this.headerSeen = true;
    }
    while (b.length - pos >= TAG_HEADER) {
      const size = b.readUIntBE(pos + 1, 3);
      const end = pos + TAG_HEADER + size + PREV_SIZE;
      if (b.length < end) break;
      const type = b[pos]! & 0x1f;
      const timestamp = ((b[pos + 7]! << 24) | b.readUIntBE(pos + 4, 3)) >>> 0;
      tags.push({ type, timestamp, data: b.subarray(pos + TAG_HEADER, pos + TAG_HEADER + size) });
      pos = end;
    }
    this.pending = pos === b.length ? Buffer.alloc(0) : b.subarray(pos);
    return tags;
  }
}

/** A video frame that starts a GOP (frame type 1), not the codec configuration that shares its flag. */
export function isKeyframe(tag: FlvTag): boolean {
  return tag.type === FLV_VIDEO && tag.data.length > 1 && tag.data[0]! >> 4 === 1 && sequenceHeaderOf(tag) === null;
}

/**
 * A codec's configuration rather than media: the AVC decoder configuration (AVCPacketType 0) or
 * the AAC AudioSpecificConfig (AACPacketType 0). A destination that joins late needs the latest
 * of each before its first frame.
 */
export function sequenceHeaderOf(tag: FlvTag): 'video' | 'audio' | null {
  if (tag.data.length < 2 || tag.data[1] !== 0) return null;
  if (tag.type === FLV_VIDEO && (tag.data[0]! & 0x0f) === 7) return 'video';
  if (tag.type === FLV_AUDIO && tag.data[0]! >> 4 === 10) return 'audio';
  return null;
}
