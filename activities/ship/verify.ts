// Checks a closed snippet before it may leave the machine: the MP4 box structure must tile the
// whole file (a truncated or unfinalized MP4 does not) and every track needs a sample description,
// ffprobe must parse it with a real duration and the streams its variant promises, and the
// duration must agree with the pipeline's sidecar.
// Also computes the checksums the upload is verified against. What the file says (duration,
// codecs, sizes, rates) is what the message announces.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { CRC32C } from '@google-cloud/storage';
import { describeTrack, moovTracks, Mp4FormatError, parseBoxHeader, trackDefect, type Mp4Box } from '../../pipelines/mp4';
import type { SnippetMetadata } from '../../pipelines/spool';

export interface ProbedMedia {
  container: 'mp4' | 'mp3';
  durationMs: number;
  video?: { codec: string; width: number; height: number; fps: number };
  audio?: { codec: string; sampleRate: number; channels: number };
}

export interface VerifiedSnippet {
  sizeBytes: number;
  /** Base64, as Cloud Storage reports them. */
  md5: string;
  crc32c: string;
  media: ProbedMedia;
}

/** A snippet that must not be uploaded as good; `reason` goes into the quarantine reason file. */
export class CorruptSnippetError extends Error {
  readonly type = 'CorruptSnippet';
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CorruptSnippetError';
  }
}

const CODEC_NAMES: Record<string, string> = { h264: 'H264', aac: 'AAC', mp3: 'MP3', opus: 'OPUS', hevc: 'H265', vp9: 'VP9', av1: 'AV1' };

/**
 * Top-level MP4 boxes must cover the file exactly, ftyp, moov and media data must be there, and
 * every trak must have a sample description (the pipeline host repairs the empty ones it knows;
 * pipelines/mp4.ts).
 */
export async function checkMp4Boxes(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const seen = new Set<string>();
    const header = Buffer.alloc(16);
    let moov: Mp4Box | undefined;
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await fh.read(header, 0, 16, offset);
      const box = mp4(() => parseBoxHeader(header.subarray(0, bytesRead), offset, size - offset));
      seen.add(box.type);
      if (box.type === 'moov') moov = box;
      offset += box.size;
    }
    for (const required of ['ftyp', 'moov']) {
      if (!seen.has(required)) throw new CorruptSnippetError(`incomplete MP4: no ${required} box (boxes: ${[...seen].join(', ') || 'none'})`);
    }
    if (!seen.has('mdat') && !seen.has('moof')) throw new CorruptSnippetError('incomplete MP4: no media data');
    const moovBytes = Buffer.alloc(moov!.size);
    await fh.read(moovBytes, 0, moov!.size, moov!.start);
    for (const track of mp4(() => moovTracks(moovBytes))) {
      const defect = trackDefect(track);
      if (defect) throw new CorruptSnippetError(`unplayable MP4: ${describeTrack(track)}: ${defect}`);
    }
  } finally {
    await fh.close();
  }
}

/** The box parser's complaints are the file's fault. */
function mp4<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof Mp4FormatError) throw new CorruptSnippetError(err.message);
    throw err;
  }
}

export async function probe(path: string, timeoutMs = 15_000): Promise<ProbedMedia> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path],
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          // A missing or hanging ffprobe is our problem, not the file's: never quarantine for it.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error.killed) reject(new Error(`ffprobe could not run: ${error.message}`));
          else reject(new CorruptSnippetError(`ffprobe cannot parse it: ${stderr.trim().split('\n').slice(-2).join(' ') || error.message}`));
          return;
        }
        resolve(stdout);
      },
    );
  });
  const info = JSON.parse(out) as {
    format?: { format_name?: string; duration?: string };
    streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string; sample_rate?: string; channels?: number; duration?: string }>;
  };
  const formatName = info.format?.format_name ?? '';
  const container = formatName === 'mp3' ? 'mp3' : formatName.split(',').includes('mp4') ? 'mp4' : undefined;
  if (!container) throw new CorruptSnippetError(`not MP4 or MP3 (ffprobe says "${formatName}")`);
  const durationMs = Math.round(Number(info.format?.duration) * 1000);
  if (!Number.isFinite(durationMs) || durationMs <= 0) throw new CorruptSnippetError(`no playable duration (ffprobe says "${info.format?.duration}")`);
  const v = info.streams?.find((s) => s.codec_type === 'video');
  const a = info.streams?.find((s) => s.codec_type === 'audio');
  const media: ProbedMedia = { container, durationMs };
  if (v) {
    media.video = {
      codec: CODEC_NAMES[v.codec_name ?? ''] ?? (v.codec_name ?? 'unknown').toUpperCase(),
      width: v.width ?? 0,
      height: v.height ?? 0,
      fps: rate(v.avg_frame_rate) ?? rate(v.r_frame_rate) ?? 0,
    };
  }
  if (a) {
    media.audio = { codec: CODEC_NAMES[a.codec_name ?? ''] ?? (a.codec_name ?? 'unknown').toUpperCase(), sampleRate: Number(a.sample_rate ?? 0), channels: a.channels ?? 0 };
  }
  return media;
}

function rate(fraction: string | undefined): number | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(fraction ?? '');
  if (!m || Number(m[2]) === 0 || Number(m[1]) === 0) return undefined;
  return Math.round((Number(m[1]) / Number(m[2])) * 1000) / 1000;
}

export async function checksums(path: string): Promise<{ md5: string; crc32c: string; sizeBytes: number }> {
  const md5 = createHash('md5');
  const crc = new CRC32C();
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    md5.update(chunk as Buffer);
    crc.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { md5: md5.digest('base64'), crc32c: crc.toString(), sizeBytes };
}

export interface VerifyOptions {
  /** Largest accepted gap between the file's duration and the sidecar's, in ms and as a fraction. */
  durationToleranceMs: number;
  durationToleranceRatio: number;
  probeTimeoutMs: number;
}

export const DEFAULT_VERIFY: VerifyOptions = { durationToleranceMs: 2000, durationToleranceRatio: 0.25, probeTimeoutMs: 15_000 };

export async function verifySnippet(path: string, meta: SnippetMetadata, opts: VerifyOptions = DEFAULT_VERIFY): Promise<VerifiedSnippet> {
  const { size } = await stat(path);
  if (size === 0) throw new CorruptSnippetError('empty file');
  const expected = meta.contentType === 'audio/mpeg' ? 'mp3' : 'mp4';
  if (expected === 'mp4') await checkMp4Boxes(path);
  const media = await probe(path, opts.probeTimeoutMs);
  if (media.container !== expected) throw new CorruptSnippetError(`sidecar says ${meta.contentType}, the file is ${media.container}`);
  if (!media.audio) throw new CorruptSnippetError('no audio stream');
  if (meta.variant === 'av' && !media.video) throw new CorruptSnippetError('variant av but no video stream');
  const gap = Math.abs(media.durationMs - meta.durationMs);
  if (gap > Math.max(opts.durationToleranceMs, opts.durationToleranceRatio * meta.durationMs)) {
    throw new CorruptSnippetError(`duration mismatch: file plays ${media.durationMs} ms, pipeline closed it after ${meta.durationMs} ms (truncated?)`);
  }
  const sums = await checksums(path);
  if (sums.sizeBytes !== size) throw new Error(`file changed while being read (${size} → ${sums.sizeBytes} bytes)`);
  return { ...sums, media };
}
