// Raw per-track spans of an MP4 file, read from its sample tables (mdhd timescale, stts sample
// durations) without applying edit lists. The concat demuxer joins files by stream copy and keeps
// every packet, the AAC encoder-priming packet an edit list hides included, so the next file has
// to start where the longest track's packets end, or audio drifts later at every join (ffmpeg
// writes such edit lists; GStreamer's mp4mux does not, and there the span is the file's duration).
import { open } from 'node:fs/promises';

export interface TrackSpans {
  /** Seconds covered by the video samples, or null without a video track. */
  video: number | null;
  audio: number | null;
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

export async function trackSpans(path: string): Promise<TrackSpans> {
  const moov = await readMoov(path);
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
    const seconds = timescale > 0 ? ticks / timescale : 0;
    if (handler === 'vide') spans.video = Math.max(spans.video ?? 0, seconds);
    if (handler === 'soun') spans.audio = Math.max(spans.audio ?? 0, seconds);
  }
  return spans;
}
