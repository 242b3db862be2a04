// Test RTP senders: gst-launch-1.0 pipelines (test pattern / tone → encoder → payloader → udpsink
// on 127.0.0.1) standing in for the ingest until the mock SFU lands. Each runs in its own process
// group and is killed with it, since gst-launch sometimes does not exit after EOS.
import { spawn, type ChildProcess } from 'node:child_process';

export interface HostSenderOptions {
  videoPort?: number;
  audioPort?: number;
  videoCodec?: 'VP8' | 'H264';
  videoPt?: number;
  audioPt?: number;
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval of the sender, in frames. */
  keyframeInterval?: number;
  /** x264 profile of an H.264 sender, to prove passthrough keeps it. */
  h264Profile?: 'baseline' | 'main' | 'high';
  /** x264 speed preset of an H.264 sender (ultrafast gives Constrained Baseline whatever the profile). */
  h264Preset?: string;
  /** Tone frequency; 0 sends silence. */
  toneHz?: number;
}

export interface RtpSender {
  stop(): Promise<void>;
  output(): string;
}

export function sendHost(o: HostSenderOptions): RtpSender {
  const parts: string[] = [];
  if (o.videoPort) {
    const fps = o.fps ?? 30;
    const kf = o.keyframeInterval ?? fps;
    const enc =
      (o.videoCodec ?? 'VP8') === 'H264'
        ? `x264enc tune=zerolatency speed-preset=${o.h264Preset ?? 'ultrafast'} key-int-max=${kf} bitrate=600 ! video/x-h264,profile=${o.h264Profile ?? 'baseline'} ! rtph264pay pt=${o.videoPt ?? 96} config-interval=-1 mtu=1200`
        : `vp8enc deadline=1 keyframe-max-dist=${kf} target-bitrate=600000 cpu-used=8 ! rtpvp8pay pt=${o.videoPt ?? 96} mtu=1200`;
    parts.push(
      `videotestsrc is-live=true pattern=ball ! video/x-raw,width=${o.width ?? 320},height=${o.height ?? 240},framerate=${fps}/1 ! ${enc} ! udpsink host=127.0.0.1 port=${o.videoPort} sync=false async=false`,
    );
  }
  if (o.audioPort) {
    const wave = o.toneHz === 0 ? 'wave=silence' : `wave=sine freq=${o.toneHz ?? 440}`;
    parts.push(
      `audiotestsrc is-live=true ${wave} ! audio/x-raw,rate=48000,channels=2 ! opusenc bitrate=32000 ! rtpopuspay pt=${o.audioPt ?? 111} ! udpsink host=127.0.0.1 port=${o.audioPort} sync=false async=false`,
    );
  }
  const args = ['-q', ...parts.join(' ').split(' ')];
  const child: ChildProcess = spawn('gst-launch-1.0', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await exited;
    },
  };
}
