// Raw per-track spans of an MP4 file, read from its sample tables (mdhd timescale, stts sample
// durations, empty edits) without trimming by edit lists. The concat demuxer joins files by stream
// copy and keeps every packet (an AAC priming packet an edit list hides included), so how long
// each file lasts in the join decides whether audio stays continuous and in step with video.
import { open } from 'node:fs/promises';

/** Where a track's samples begin and end, in seconds from the file's start (a late start, an
 *  empty edit, included). */
export interface Span {
  start: number;
  end: number;
}

export interface TrackSpans {
  video: Span | null;
  audio: Span | null;
}

async function readMoov(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(16);
    for (let offset = 0; offset + 8 <= size; ) {
      await fh.read(head, 0, 16, offset);
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      let header = 8;
      if (boxSize === 1) {
        boxSize = Number(head.readBigUInt64BE(8));
        header = 16;
      } else if (boxSize === 0) boxSize = size - offset;
      if (boxSize < header) break;
      if (type === 'moov') {
        const moov = Buffer.alloc(boxSize - header);
        await fh.read(moov, 0, moov.length, offset + header);
        return moov;
      }
      offset += boxSize;
    }
    throw new Error(`${path}: no moov box`);
  } finally {
    await fh.close();
  }
}

function* boxes(buf: Buffer, start = 0, end = buf.length): Generator<{ type: string; body: Buffer }> {
  for (let o = start; o + 8 <= end; ) {
    let size = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(o + 8));
      header = 16;
    } else if (size === 0) size = end - o;
    if (size < header || o + size > end) return;
    yield { type, body: buf.subarray(o + header, o + size) };
    o += size;
  }
}

function find(buf: Buffer, path: string[]): Buffer | undefined {
  let cur: Buffer | undefined = buf;
  for (const name of path) {
    cur = cur && [...boxes(cur)].find((b) => b.type === name)?.body;
  }
  return cur;
}

/** Seconds of empty edits: a track that starts late (splitmuxsink's audio after the first snippet). */
function emptyEditSeconds(trak: Buffer, movieTimescale: number): number {
  const elst = find(trak, ['edts', 'elst']);
  if (!elst || movieTimescale <= 0) return 0;
  const v1 = elst[0] === 1;
  const entries = elst.readUInt32BE(4);
  let ticks = 0;
  for (let i = 0, o = 8; i < entries; i++, o += v1 ? 20 : 12) {
    const duration = v1 ? Number(elst.readBigUInt64BE(o)) : elst.readUInt32BE(o);
    const mediaTime = v1 ? Number(elst.readBigInt64BE(o + 8)) : elst.readInt32BE(o + 4);
    if (mediaTime === -1) ticks += duration;
  }
  return ticks / movieTimescale;
}

export async function trackSpans(path: string): Promise<TrackSpans> {
  const moov = await readMoov(path);
  const mvhd = find(moov, ['mvhd']);
  const movieTimescale = mvhd ? (mvhd[0] === 1 ? mvhd.readUInt32BE(20) : mvhd.readUInt32BE(12)) : 0;
  const spans: TrackSpans = { video: null, audio: null };
  for (const trak of boxes(moov)) {
    if (trak.type !== 'trak') continue;
    const hdlr = find(trak.body, ['mdia', 'hdlr']);
    const mdhd = find(trak.body, ['mdia', 'mdhd']);
    const stts = find(trak.body, ['mdia', 'minf', 'stbl', 'stts']);
    if (!hdlr || !mdhd || !stts) continue;
    const handler = hdlr.toString('latin1', 8, 12);
    const timescale = mdhd[0] === 1 ? mdhd.readUInt32BE(20) : mdhd.readUInt32BE(12);
    // Muxers shorten (or stretch) the last sample's duration to an edit or a track end; a packet
    // still lasts a whole frame when copied, so the last one counts with the usual duration.
    let ticks = 0;
    let usual = { count: 0, delta: 0 };
    let last = 0;
    const entries = stts.readUInt32BE(4);
    for (let i = 0; i < entries; i++) {
      const count = stts.readUInt32BE(8 + i * 8);
      const delta = stts.readUInt32BE(12 + i * 8);
      ticks += count * delta;
      if (count > usual.count) usual = { count, delta };
      last = delta;
    }
    if (entries > 0) ticks += usual.delta - last;
    const start = emptyEditSeconds(trak.body, movieTimescale);
    const span = { start, end: start + (timescale > 0 ? ticks / timescale : 0) };
    if (handler === 'vide' && !spans.video) spans.video = span;
    if (handler === 'soun' && !spans.audio) spans.audio = span;
  }
  return spans;
}
