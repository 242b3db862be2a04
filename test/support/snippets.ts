// Writes real snippets into a spool folder the way the pipeline host does (pipelines/spool.ts):
// the media file is encoded under its hidden .part name, renamed on "close", then the sidecar
// JSON is written to a temp name and renamed into place. Media comes from ffmpeg test sources.
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { audioPatternSource, videoPatternFilter } from '../../apps/mock-sfu/media';
import { SPOOL_SCHEMA, metadataFileName, partFileName, snippetFileName, type SnippetMetadata } from '../../pipelines/spool';

const run = promisify(execFile);

export interface SnippetSpec {
  livestreamId: string;
  recordingId: string;
  kind?: 'composite' | 'individual';
  hostId?: string;
  variant?: 'av' | 'audio';
  sequence: number;
  /** Seconds of media (1–3 in tests). */
  seconds?: number;
  encoder?: Encoder;
  /** Wall-clock start; default: now minus the duration. */
  startTime?: Date;
  hosts?: string[];
}

/** ffmpeg test sources; the GStreamer elements of the pipeline host; or ffmpeg with the mock SFU's
 *  flash+beep pattern (for A/V sync measurements with test/support/av-sync.ts). */
export type Encoder = 'ffmpeg' | 'gstreamer' | 'pattern';

/** Encodes media into `path` (any name; the container is forced) with ffmpeg or with the
 *  GStreamer elements the pipeline host uses (x264enc/avenc_aac → mp4mux, lamemp3enc). */
export async function encodeMedia(path: string, variant: 'av' | 'audio', seconds: number, tone: number, encoder: Encoder = 'ffmpeg'): Promise<void> {
  if (encoder === 'gstreamer') return encodeWithGstreamer(path, variant, seconds, tone);
  const args =
    variant === 'av' && encoder === 'pattern'
      ? ['-f', 'lavfi', '-i', videoPatternFilter('clip', '#204080', 640, 360, 15, seconds), '-f', 'lavfi', '-i', audioPatternSource(seconds, 44100),
         // No edit list, like GStreamer's mp4mux (the shipped snippets): the AAC priming is audio.
         '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '44k', '-ac', '1', '-use_editlist', '0', '-f', 'mp4']
      : variant === 'av'
      ? ['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=15:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=${tone}:sample_rate=44100:duration=${seconds}`,
         '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '44k', '-ac', '1', '-shortest', '-f', 'mp4']
      : ['-f', 'lavfi', '-i', `sine=frequency=${tone}:sample_rate=44100:duration=${seconds}`, '-c:a', 'libmp3lame', '-b:a', '64k', '-ac', '1', '-f', 'mp3'];
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args, path], { timeout: 60_000 });
}

async function encodeWithGstreamer(path: string, variant: 'av' | 'audio', seconds: number, tone: number): Promise<void> {
  const audioBuffers = Math.ceil((44100 * seconds) / 1024);
  const audio = `audiotestsrc num-buffers=${audioBuffers} samplesperbuffer=1024 freq=${tone} ! audio/x-raw,rate=44100,channels=1 ! audioconvert`;
  const pipeline =
    variant === 'av'
      ? `videotestsrc num-buffers=${15 * seconds} pattern=ball ! video/x-raw,format=I420,width=640,height=360,framerate=15/1 ! x264enc speed-preset=ultrafast key-int-max=15 ! h264parse ! queue ! mp4mux name=mux ! filesink location=${path} ${audio} ! avenc_aac ! aacparse ! queue ! mux.`
      : `${audio} ! lamemp3enc ! filesink location=${path}`;
  // Stock gst-launch-1.0 1.22 now and then never exits after EOS (GSTREAMER-NOTES.md): bounded
  // runs, and one more try when that happens.
  for (let attempt = 1; ; attempt++) {
    try {
      await run('gst-launch-1.0', ['-q', ...pipeline.split(' ')], { timeout: 20_000, killSignal: 'SIGKILL' });
      return;
    } catch (e) {
      if (attempt >= 2 || !(e as { killed?: boolean }).killed) throw e;
    }
  }
}

/** Builds the sidecar for a snippet (what the pipeline host writes on fragment-closed). */
export function sidecarFor(spec: SnippetSpec, now = new Date()): SnippetMetadata {
  const variant = spec.variant ?? 'av';
  const seconds = spec.seconds ?? 1;
  const start = spec.startTime ?? new Date(now.getTime() - seconds * 1000);
  const kind = spec.kind ?? (spec.hostId ? 'individual' : 'composite');
  return {
    schema: SPOOL_SCHEMA,
    livestreamId: spec.livestreamId,
    recordingId: spec.recordingId,
    kind,
    ...(spec.hostId ? { hostId: spec.hostId } : {}),
    variant,
    sequence: spec.sequence,
    file: snippetFileName(spec.sequence, variant === 'av' ? 'mp4' : 'mp3'),
    startTime: start.toISOString(),
    endTime: new Date(start.getTime() + seconds * 1000).toISOString(),
    durationMs: seconds * 1000,
    contentType: variant === 'av' ? 'video/mp4' : 'audio/mpeg',
    ...(variant === 'av' ? { video: { codec: 'H264' as const, width: 640, height: 360, fps: 15 } } : {}),
    audio: { codec: variant === 'av' ? 'AAC' : 'MP3', sampleRate: 44100, channels: 1 },
    hosts: spec.hosts ?? (spec.hostId ? [spec.hostId] : ['alice', 'bob']),
    closedAt: now.toISOString(),
  };
}

/** Encodes a snippet under its .part name, then "closes" it: rename + sidecar. */
export async function writeSnippet(dir: string, spec: SnippetSpec, mutate?: (file: string) => void): Promise<SnippetMetadata> {
  mkdirSync(dir, { recursive: true });
  const variant = spec.variant ?? 'av';
  const ext = variant === 'av' ? 'mp4' : 'mp3';
  const part = join(dir, partFileName(spec.sequence, ext));
  await encodeMedia(part, variant, spec.seconds ?? 1, 300 + spec.sequence * 40, spec.encoder);
  mutate?.(part);
  return closeSnippet(dir, spec, part);
}

/** The fragment-closed step alone, for a .part file already on disk. */
export function closeSnippet(dir: string, spec: SnippetSpec, part: string): SnippetMetadata {
  const meta = sidecarFor(spec);
  renameSync(part, join(dir, meta.file));
  const tmp = join(dir, `.${metadataFileName(spec.sequence)}.tmp`);
  writeFileSync(tmp, JSON.stringify(meta, null, 2));
  renameSync(tmp, join(dir, metadataFileName(spec.sequence)));
  return meta;
}
