// MP4 box structure, as far as the snippets need it: the top-level boxes of a file, the tracks in
// its moov, and the repair of one known mp4mux defect. A muxer pad that never got caps in a
// fragment (splitmuxsink resets the muxer for every snippet and re-sends the streams' caps; see
// pipelines/host/pipeline-host.ts stop()) still gets a trak, with no sample description and an
// mdhd time scale of 0: players refuse the whole file ("invalid STSD entries 0"). Such a trak
// holds no samples, so dropping it loses nothing. A trak that holds samples is never dropped.
// Used by the pipeline host (repair before a snippet is published) and by shipping (the same
// check names the defect when it quarantines).
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

export interface Mp4Box {
  type: string;
  /** Offset of the box header, relative to the buffer (or file) it was read from. */
  start: number;
  headerSize: number;
  /** Whole box, header included. */
  size: number;
}

export class Mp4FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mp4FormatError';
  }
}

/** Reads one box header at `offset` from a 16-byte (or shorter, at the end) header slice. */
export function parseBoxHeader(header: Buffer, offset: number, available: number): Mp4Box {
  if (available < 8) throw new Mp4FormatError(`truncated MP4: ${available} stray bytes at offset ${offset}`);
  let size = header.readUInt32BE(0);
  const type = header.toString('latin1', 4, 8);
  if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Mp4FormatError(`not an MP4 box at offset ${offset}`);
  let headerSize = 8;
  if (size === 1) {
    if (available < 16) throw new Mp4FormatError(`truncated MP4: ${type} box header cut at offset ${offset}`);
    size = Number(header.readBigUInt64BE(8));
    headerSize = 16;
  } else if (size === 0) {
    size = available; // "to the end": only meaningful for the last box
  }
  if (size < headerSize) throw new Mp4FormatError(`invalid MP4: ${type} box of ${size} bytes at offset ${offset}`);
  if (size > available) throw new Mp4FormatError(`truncated MP4: ${type} box at offset ${offset} needs ${size} bytes, file has ${available}`);
  return { type, start: offset, headerSize, size };
}

/** The boxes that tile buf[from, to) exactly (throws where they do not). */
export function childBoxes(buf: Buffer, from: number, to: number): Mp4Box[] {
  const boxes: Mp4Box[] = [];
  for (let offset = from; offset < to; ) {
    const box = parseBoxHeader(buf.subarray(offset, Math.min(offset + 16, to)), offset, to - offset);
    boxes.push(box);
    offset += box.size;
  }
  return boxes;
}

const child = (buf: Buffer, parent: Mp4Box | undefined, type: string): Mp4Box | undefined =>
  parent ? childBoxes(buf, parent.start + parent.headerSize, parent.start + parent.size).find((b) => b.type === type) : undefined;

/** A full box's body starts after its version and flags. */
const fullBody = (box: Mp4Box) => box.start + box.headerSize + 4;

export interface Mp4Track {
  /** 1-based position among the moov's traks. */
  index: number;
  box: Mp4Box;
  trackId: number | null;
  /** hdlr type: 'vide', 'soun', … (null without one). */
  handler: string | null;
  timescale: number | null;
  /** stsd entry count; null where the trak has no stsd at all. */
  sampleEntries: number | null;
  /** stsz/stz2 sample count; null where the trak has no sample table. */
  samples: number | null;
}

/** The traks of a moov box (`moov` is the whole box, header included). */
export function moovTracks(moov: Buffer): Mp4Track[] {
  const top = parseBoxHeader(moov.subarray(0, 16), 0, moov.length);
  if (top.type !== 'moov') throw new Mp4FormatError(`expected a moov box, found ${top.type}`);
  const traks = childBoxes(moov, top.headerSize, top.size).filter((b) => b.type === 'trak');
  return traks.map((trak, i) => {
    const tkhd = child(moov, trak, 'tkhd');
    const mdia = child(moov, trak, 'mdia');
    const mdhd = child(moov, mdia, 'mdhd');
    const hdlr = child(moov, mdia, 'hdlr');
    const stbl = child(moov, child(moov, mdia, 'minf'), 'stbl');
    const stsd = child(moov, stbl, 'stsd');
    const stsz = child(moov, stbl, 'stsz') ?? child(moov, stbl, 'stz2');
    // tkhd and mdhd: version 1 has 64-bit times before the id / time scale.
    const v1 = (box: Mp4Box) => moov[box.start + box.headerSize] === 1;
    return {
      index: i + 1,
      box: trak,
      trackId: tkhd ? moov.readUInt32BE(fullBody(tkhd) + (v1(tkhd) ? 16 : 8)) : null,
      handler: hdlr ? moov.toString('latin1', fullBody(hdlr) + 4, fullBody(hdlr) + 8) : null,
      timescale: mdhd ? moov.readUInt32BE(fullBody(mdhd) + (v1(mdhd) ? 16 : 8)) : null,
      sampleEntries: stsd ? moov.readUInt32BE(fullBody(stsd)) : null,
      // stsz: sample_size then sample_count; stz2: reserved+field_size then sample_count
      samples: stsz ? moov.readUInt32BE(fullBody(stsz) + 4) : null,
    };
  });
}

/** What makes a trak unplayable, or null: no sample description (an empty or absent stsd). */
export function trackDefect(t: Mp4Track): string | null {
  if (t.sampleEntries === null) return 'no sample description (no stsd)';
  if (t.sampleEntries === 0) return 'no sample description (stsd with 0 entries)';
  return null;
}

export const describeTrack = (t: Mp4Track) =>
  `trak ${t.index} (track ${t.trackId ?? '?'}, ${t.handler ?? 'no handler'}, ${t.samples ?? 0} samples, time scale ${t.timescale ?? '?'})`;

export interface Mp4Repair {
  /** Traks taken out of the moov: empty, without a sample description. */
  removed: string[];
  /** Defective traks left alone because they hold samples (the file stays unplayable). */
  kept: string[];
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) throw new Mp4FormatError(`unexpected end of file at ${offset + done}`);
    done += n;
  }
  return buf;
}

/** The top-level boxes of an open file. */
export function topLevelBoxes(fd: number): Mp4Box[] {
  const { size } = fstatSync(fd);
  const boxes: Mp4Box[] = [];
  for (let offset = 0; offset < size; ) {
    const header = readAt(fd, offset, Math.min(16, size - offset));
    const box = parseBoxHeader(header, offset, size - offset);
    boxes.push(box);
    offset += box.size;
  }
  return boxes;
}

/**
 * Takes the traks without a sample description and without samples out of the file's moov, in
 * place. Where moov is the last box (mp4mux without faststart, as the snippets are written) the
 * moov shrinks and the file with it, so the chunk offsets into mdat stay valid; elsewhere each
 * such trak becomes a `free` box of the same size, which moves nothing either.
 */
export function repairEmptyTracks(path: string): Mp4Repair {
  const fd = openSync(path, 'r+');
  try {
    const boxes = topLevelBoxes(fd);
    const moovBox = boxes.find((b) => b.type === 'moov');
    if (!moovBox) throw new Mp4FormatError('no moov box');
    const moov = readAt(fd, moovBox.start, moovBox.size);
    const tracks = moovTracks(moov);
    const defective = tracks.filter((t) => trackDefect(t) !== null);
    const removable = defective.filter((t) => !t.samples);
    const result: Mp4Repair = {
      removed: removable.map((t) => `${describeTrack(t)}: ${trackDefect(t)}`),
      kept: defective.filter((t) => t.samples).map((t) => `${describeTrack(t)}: ${trackDefect(t)}`),
    };
    if (removable.length === 0) return result;
    // Without a single good trak left there is nothing to repair towards: leave the file as it is.
    if (removable.length === tracks.length) return { removed: [], kept: [...result.removed, ...result.kept] };
    if (moovBox === boxes[boxes.length - 1]) {
      const kept = childBoxes(moov, moovBox.headerSize, moovBox.size).filter((b) => !removable.some((t) => t.box.start === b.start));
      const body = Buffer.concat(kept.map((b) => moov.subarray(b.start, b.start + b.size)));
      const header = Buffer.from(moov.subarray(0, moovBox.headerSize));
      const newSize = header.length + body.length;
      if (moovBox.headerSize === 16) header.writeBigUInt64BE(BigInt(newSize), 8);
      else header.writeUInt32BE(newSize, 0);
      const out = Buffer.concat([header, body]);
      writeSync(fd, out, 0, out.length, moovBox.start);
      ftruncateSync(fd, moovBox.start + out.length);
    } else {
      for (const t of removable) writeSync(fd, Buffer.from('free', 'latin1'), 0, 4, moovBox.start + t.box.start + 4);
    }
    return result;
  } finally {
    closeSync(fd);
  }
}
