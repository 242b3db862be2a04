// Writes real snippets into a spool folder the way the pipeline host does (pipelines/spool.ts):
// the media file is encoded under its hidden .part name, renamed on "close", then the sidecar
// JSON is written to a temp name and renamed into place. Media comes from ffmpeg test sources.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

export type Encoder = 'ffmpeg' | 'gstreamer';

/** Encodes media into `path` (any name; the container is forced) with ffmpeg or with the
 *  GStreamer elements the pipeline host uses (x264enc/avenc_aac → mp4mux, lamemp3enc). */
export async function encodeMedia(path: string, variant: 'av' | 'audio', seconds: number, tone: number, encoder: Encoder = 'ffmpeg'): Promise<void> {
  if (encoder === 'gstreamer') return encodeWithGstreamer(path, variant, seconds, tone);
  const args =
    variant === 'av'
      ? ['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=15:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=${tone}:sample_rate=44100:duration=${seconds}`,
         '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '44k', '-ac', '1', '-shortest', '-f', 'mp4']
      : ['-f', 'lavfi', '-i', `sine=frequency=${tone}:sample_rate=44100:duration=${seconds}`, '-c:a', 'libmp3lame', '-b:a', '64k', '-ac', '1', '-f', 'mp3'];
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args, path], { timeout: 60_000 });
}

async function encodeWithGstreamer(path: string, variant: 'av' | 'audio', seconds: number, tone: number): Promise<void> {
  const audioBuffers = Math.ceil((44100 * seconds) / 1024);
  const audio = `audiotestsrc num-buffers=${audioBuffers} samplesperbuffer=1024 freq=${tone} ! audio/x-raw,rate=44100,channels=1 ! audioconvert`;
  await gstLaunch(
    variant === 'av'
      ? `videotestsrc num-buffers=${15 * seconds} pattern=ball ! video/x-raw,format=I420,width=640,height=360,framerate=15/1 ! x264enc speed-preset=ultrafast key-int-max=15 ! h264parse ! queue ! mp4mux name=mux ! filesink location=${path} ${audio} ! avenc_aac ! aacparse ! queue ! mux.`
      : `${audio} ! lamemp3enc ! filesink location=${path}`,
  );
}

/** Runs a gst-launch-1.0 pipeline to its end, bounded. Stock gst-launch-1.0 1.22 now and then
 *  never exits, or never reports EOS, although every file is finished (GSTREAMER-NOTES.md; with
 *  splitmuxsink in about half the runs here): once it reports EOS, or when `finished` says the
 *  files are complete, a lingering process is killed. Otherwise a run is tried once more. */
export async function gstLaunch(pipeline: string, finished?: () => Promise<boolean>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await gstLaunchOnce(pipeline, finished ? 8000 : 20_000);
      return;
    } catch (e) {
      if ((e as { timedOut?: boolean }).timedOut && finished && (await finished())) return;
      if (attempt >= 2 || !(e as { timedOut?: boolean }).timedOut) throw e;
    }
  }
}

function gstLaunchOnce(pipeline: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // Line-buffered, so the EOS line arrives when it is printed, not when the process exits.
    const child = spawn('stdbuf', ['-oL', 'gst-launch-1.0', ...pipeline.split(' ')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let eos = false;
    let linger: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!eos && /Got EOS from element/.test(out)) {
        eos = true;
        linger = setTimeout(() => child.kill('SIGKILL'), 2000);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      clearTimeout(linger);
      if (eos || code === 0) return resolve();
      reject(Object.assign(new Error(`gst-launch-1.0 failed (exit ${code}): ${err.trim() || out.trim().split('\n').slice(-3).join(' | ')}`), { timedOut: code === null }));
    });
  });
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
