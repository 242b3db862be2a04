// Readers for the simple containers ffmpeg writes for the mock SFU's pre-encoded clips: IVF (VP8),
// Annex-B H.264 elementary streams (access units delimited by AUD NAL units) and Ogg Opus (pages
// parsed here, RFC 3533 / RFC 7845). Everything is read into memory once; sending is then only
// slicing Buffers.

export interface VideoFrame {
  /** Presentation time in seconds from the clip start. */
  pts: number;
  keyframe: boolean;
  /** VP8: the frame. H.264: the access unit's NAL units without start codes (AUD removed). */
  data: Buffer;
  nals?: Buffer[];
}

export interface IvfClip {
  width: number;
  height: number;
  frames: VideoFrame[];
}

export function readIvf(buf: Buffer): IvfClip {
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const headerLen = buf.readUInt16LE(6);
  const fourcc = buf.toString('latin1', 8, 12);
  if (fourcc !== 'VP80') throw new Error(`IVF holds ${fourcc}, expected VP80`);
  const width = buf.readUInt16LE(12);
  const height = buf.readUInt16LE(14);
  const rate = buf.readUInt32LE(16);
  const scale = buf.readUInt32LE(20);
  const frames: VideoFrame[] = [];
  let offset = headerLen;
  while (offset + 12 <= buf.length) {
    const size = buf.readUInt32LE(offset);
    const pts = Number(buf.readBigUInt64LE(offset + 4));
    const data = buf.subarray(offset + 12, offset + 12 + size);
    if (data.length !== size) throw new Error('truncated IVF frame');
    // VP8 frame tag: bit 0 of the first byte is 0 for a key frame (RFC 6386 §9.1)
    frames.push({ pts: (pts * scale) / rate, keyframe: (data[0]! & 1) === 0, data });
    offset += 12 + size;
  }
  return { width, height, frames };
}

/** Splits an Annex-B byte stream at start codes (00 00 01 / 00 00 00 01). */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < buf.length) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && buf[end - 1] === 0) end--; // trailing zero of a 4-byte start code
        nals.push(buf.subarray(start, end));
      }
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0 && start < buf.length) nals.push(buf.subarray(start));
  return nals.filter((n) => n.length > 0);
}

export const H264_NAL = { IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;

/** Groups an Annex-B stream into access units at AUD NAL units (x264 `aud=1`), at a fixed frame rate. */
export function readAnnexB(buf: Buffer, fps: number): VideoFrame[] {
  const frames: VideoFrame[] = [];
  let current: Buffer[] = [];
  const flush = () => {
    if (current.length === 0) return;
    const keyframe = current.some((n) => (n[0]! & 0x1f) === H264_NAL.IDR);
    frames.push({ pts: frames.length / fps, keyframe, data: Buffer.concat(current), nals: current });
    current = [];
  };
  let sawAud = false;
  for (const nal of splitAnnexB(buf)) {
    if ((nal[0]! & 0x1f) === H264_NAL.AUD) {
      sawAud = true;
      flush();
    } else current.push(nal);
  }
  flush();
  // without delimiters a multi-slice frame cannot be told from several frames
  if (frames.length > 0 && !sawAud) throw new Error('H.264 stream has no access unit delimiters (encode with x264 aud=1)');
  return frames;
}

export interface OpusPacket {
  data: Buffer;
  /** Duration in 48 kHz samples, from the TOC byte. */
  samples: number;
}

export interface OggOpusClip {
  channels: number;
  preSkip: number;
  packets: OpusPacket[];
}

/** Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length < 1) throw new Error('empty Opus packet');
  const toc = packet[0]!;
  const config = toc >> 3;
  let frameSamples: number;
  if (config < 12) frameSamples = [480, 960, 1920, 2880][config % 4]!;
  else if (config < 16) frameSamples = [480, 960][config % 2]!;
  else frameSamples = [120, 240, 480, 960][config % 4]!;
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code < 3) frames = 2;
  else {
    if (packet.length < 2) throw new Error('Opus code-3 packet without a frame count');
    frames = packet[1]! & 0x3f;
  }
  return frames * frameSamples;
}

/** Packets of the first logical stream of an Ogg file, reassembled across pages. */
export function readOggPackets(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let serial: number | undefined;
  let offset = 0;
  while (offset + 27 <= buf.length) {
    if (buf.toString('latin1', offset, offset + 4) !== 'OggS') throw new Error(`no Ogg page at byte ${offset}`);
    const pageSerial = buf.readUInt32LE(offset + 14);
    const segments = buf[offset + 26]!;
    const table = buf.subarray(offset + 27, offset + 27 + segments);
    let dataOffset = offset + 27 + segments;
    const mine = serial === undefined || serial === pageSerial;
    serial ??= pageSerial;
    for (const lace of table) {
      if (mine) pending.push(buf.subarray(dataOffset, dataOffset + lace));
      dataOffset += lace;
      // a lacing value below 255 ends a packet; 255 continues it (possibly on the next page)
      if (mine && lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    if (dataOffset > buf.length) throw new Error('truncated Ogg page');
    offset = dataOffset;
  }
  return packets;
}

export function readOggOpus(buf: Buffer): OggOpusClip {
  const [head, tags, ...audio] = readOggPackets(buf);
  if (!head || head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('not an Ogg Opus file');
  if (!tags || tags.toString('latin1', 0, 8) !== 'OpusTags') throw new Error('Ogg Opus file without OpusTags');
  return {
    channels: head[9]!,
    preSkip: head.readUInt16LE(10),
    packets: audio.map((data) => ({ data, samples: opusPacketSamples(data) })),
  };
}
