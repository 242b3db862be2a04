// Pieces shared by the pipeline builders: per-host RTP inputs (udpsrc → rtpjitterbuffer →
// depayloader), the snippet sink and naming. Pure functions of the recording config.
import { RTP_CLOCK, type HostMedia, type RecordingConfig } from '../config';
import type { ElementSpec, PropValue } from '../spec';

export const DEFAULT_JITTER_LATENCY_MS = 200;
export const DEFAULT_STATS_INTERVAL_MS = 5000;
/** Port 0: the OS picks a free port; the host reads it back and reports it in `ready`/`input-added`. */
export const INPUT_ADDRESS = '127.0.0.1';

export const jitterLatencyMs = (c: RecordingConfig) => c.jitterLatencyMs ?? DEFAULT_JITTER_LATENCY_MS;

/** Element names of one host's inputs, so the host finds them again (ports, stats, ts-offset). */
export const inputNames = (hostId: string, media: 'video' | 'audio') => {
  const m = media === 'video' ? 'v' : 'a';
  return { src: `${hostId}-${m}-src`, jitter: `${hostId}-${m}-jb`, depay: `${hostId}-${m}-depay`, queue: `${hostId}-${m}-queue`, count: `${hostId}-${m}-count` };
};

export function rtpCaps(host: HostMedia, media: 'video' | 'audio'): string {
  if (media === 'video') {
    return `application/x-rtp,media=video,clock-rate=${RTP_CLOCK.video},encoding-name=${host.video.codec},payload=${host.video.payloadType}`;
  }
  return `application/x-rtp,media=audio,clock-rate=${RTP_CLOCK.audio},encoding-name=${host.audio.codec},payload=${host.audio.payloadType}`;
}

/** An `identity` whose `stats` (num-buffers) count the frames passing it: frame counters without per-buffer callbacks. */
export const frameCounter = (name: string): ElementSpec => ({ name, factory: 'identity', props: { silent: true } });

/** udpsrc → rtpjitterbuffer → depayloader for one host's video or audio (audio: + a frame counter). */
export function rtpInput(config: RecordingConfig, host: HostMedia, media: 'video' | 'audio'): ElementSpec[] {
  const n = inputNames(host.hostId, media);
  const depay = media === 'audio' ? 'rtpopusdepay' : host.video.codec === 'H264' ? 'rtph264depay' : 'rtpvp8depay';
  const depayProps: Record<string, PropValue> = {};
  // A VP8 frame with a lost packet would decode to garbage: the depayloader waits for the next keyframe.
  if (depay === 'rtpvp8depay') depayProps['wait-for-keyframe'] = true;
  return [
    { name: n.src, factory: 'udpsrc', props: { address: INPUT_ADDRESS, port: 0, caps: rtpCaps(host, media), 'buffer-size': 2_097_152 } },
    {
      name: n.jitter,
      factory: 'rtpjitterbuffer',
      // drop-on-latency keeps a late burst from growing the buffer; do-lost lets decoders conceal.
      // What it drops (held past its latency, or too late) is counted nowhere else: it posts a
      // `drop-msg` message for each drop (each counts the drops since the one before), which the
      // host adds to the branch's `dropped`. The bus is polled, so this costs the streaming thread
      // nothing; with the default of at most one message per 200 ms, drops after the last message
      // of a burst were never reported.
      props: { latency: jitterLatencyMs(config), 'drop-on-latency': true, 'do-lost': true, 'post-drop-messages': true, 'drop-messages-interval': 0 },
    },
    { name: n.depay, factory: depay, props: depayProps },
    ...(media === 'audio' ? [frameCounter(n.count)] : []),
  ];
}

/**
 * The VP8 decoder: libavcodec's (gst-libav), not libvpx's `vp8dec`, which cost about a third of
 * a 9-host composite's CPU (perf, 640x480 30 fps cameras). One thread per decoder: frame threading
 * adds a frame of latency and a thread per core for a stream this small, and the recordings
 * already run one decoder per host in parallel.
 */
export const vp8Decoder = (name: string): ElementSpec => ({ name, factory: 'avdec_vp8', props: { 'max-threads': 1 } });

/** libopus's Opus decoder, concealing a packet the jitter buffer reports lost (`do-lost`). */
export const opusDecoder = (name: string): ElementSpec => ({ name, factory: 'opusdec', props: { plc: true } });

/** A leaky-free queue that decouples streaming threads; its fill level is reported in stats. */
export const queue = (name: string, maxTimeMs = 1000): ElementSpec => ({
  name,
  factory: 'queue',
  props: { 'max-size-time': maxTimeMs * 1_000_000, 'max-size-buffers': 0, 'max-size-bytes': 0 },
});

/** A queue that drops its oldest buffers when full instead of blocking its upstream. */
export const leakyQueue = (name: string, maxTimeMs = 1000, maxBytes = 0): ElementSpec => {
  const q = queue(name, maxTimeMs);
  return { ...q, props: { ...q.props, leaky: 'downstream', 'max-size-bytes': maxBytes } };
};

export const SINK = 'snippets';
/** The live silence every recording's audio mixer has as an input. */
export const SILENCE_SOURCE = 'silence';
export const PASSTHROUGH_SLACK_NS = 100_000_000;
/** videorate in front of the encoder: its in/out/drop counters are the output frame statistics. */
export const OUTPUT_RATE = 'outrate';
/** The one raw audio format every mixer input is converted to. */
export const MIX_CAPS = 'audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved';
/** The composite mixes in float, so a sum above full scale reaches its limiter unclamped. */
export const FLOAT_MIX_CAPS = 'audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved';

/** splitmuxsink writing `.NNNNNN.ext.part` files from startSequence; the host renames them on close. */
export function snippetSink(config: RecordingConfig, ext: 'mp4' | 'mp3', encoded: boolean): ElementSpec {
  const props: Record<string, PropValue> = {
    location: `${config.spoolDir}/.%06d.${ext}.part`,
    'start-index': config.startSequence,
    // Passed-through video can only be cut at the sender's keyframes; a little slack lets a
    // keyframe that lands exactly on the boundary (a GOP dividing the snippet length) start the next one.
    'max-size-time': config.snippetSeconds * 1_000_000_000 + (encoded || ext === 'mp3' ? 0 : PASSTHROUGH_SLACK_NS),
    'max-size-bytes': 0,
    // Ask the encoder for a keyframe at each cut, so every snippet is exactly snippetSeconds and
    // starts with a keyframe. Passed-through H.264 cannot be asked: there the sender's keyframes rule.
    'send-keyframe-requests': encoded,
    'async-finalize': false,
  };
  if (ext === 'mp3') props['muxer-factory'] = 'id3v2mux';
  else props['muxer-factory'] = 'mp4mux';
  return { name: SINK, factory: 'splitmuxsink', props };
}

/**
 * How far (ns) a mixer input's timestamps may stray from where its samples, counted from its
 * previous buffer, would put them, before the mixer places it by its timestamp again. An input's
 * first timestamps come from when its first RTP packets were read: late when the sender or this
 * pipeline was busy as the stream started. Its jitter buffer corrects them within about a second
 * (its skew estimate: 0 to 16.5 ms at a recording's start on these machines with the cores
 * busy). With audiomixer's default, 40 ms, the audio kept that start-up lateness for the whole
 * recording while the video, placed by its timestamps, lost it: audio first sent 25 ms late
 * stayed 35 ms behind its picture. Each re-placement drops, or leaves silent, 2 ms of that
 * input's audio.
 */
export const MIX_ALIGNMENT_NS = 2_000_000;
/** How long (ns) an input must stay beyond that before it is placed again: one stray buffer is not enough. */
export const MIX_DISCONT_WAIT_NS = 100_000_000;

/** An audiomixer whose inputs follow their timestamps to within MIX_ALIGNMENT_NS (see there). */
export function audioMixer(name: string, latencyNs: number): ElementSpec {
  return { name, factory: 'audiomixer', props: { latency: latencyNs, 'alignment-threshold': MIX_ALIGNMENT_NS, 'discont-wait': MIX_DISCONT_WAIT_NS } };
}

/** A silent live source mixed under the real audio, so audio (and the snippets) keep flowing when a microphone goes quiet. */
export function silence(name: string, caps = MIX_CAPS): ElementSpec[] {
  return [
    { name, factory: 'audiotestsrc', props: { 'is-live': true, wave: 'silence', 'samplesperbuffer': 960 } },
    { name: `${name}-caps`, factory: 'capsfilter', props: { caps } },
  ];
}

export function x264(name: string, bitrateKbps: number, preset: string, fps: number): ElementSpec {
  return {
    name,
    factory: 'x264enc',
    props: {
      // pass=qual is constant quality with `bitrate` as the VBV cap: the config's bitrate is a cap.
      pass: 'qual',
      quantizer: 23,
      bitrate: bitrateKbps,
      'speed-preset': preset,
      tune: 'zerolatency',
      // One-second GOPs: splitmuxsink closes a fragment only when the GOP after the cut is
      // complete, so the GOP bounds how late `fragment-closed` comes; the cut itself is exact
      // because splitmuxsink requests a keyframe there (send-keyframe-requests).
      'key-int-max': Math.max(1, Math.round(fps)),
      'b-adapt': false,
      bframes: 0,
    },
  };
}

/**
 * Closed until the first video buffer reaches the snippet sink (the pipeline host opens it): a
 * recording that starts while media flows has audio at once but video only from the sender's
 * next keyframe (up to a keyframe interval later, more under load), and the first snippet would
 * open on audio alone. When it opens, the audio still behind the first video frame's running time
 * is dropped at its src pad: audio takes longer than passed-through video to reach the gate
 * (mixer, encoder), so what arrives together with that frame is older than it. Sticky events
 * (caps, segment, EOS) pass while it is closed, so a recording that never gets video still
 * finishes.
 */
export const AUDIO_GATE = 'agate';

/**
 * avenc_aac opens every stream with 1024 samples of encoder delay (priming) and nothing in the MP4
 * tells a player to skip them, so decoded audio plays 1024/48000 s late. An individual recording's
 * video reaches its snippet sink delayed by as much (a pad offset); see composite.pipeline.ts for
 * why the composite's does not.
 */
export const AAC_PRIMING_NS = Math.round((1024 / 48_000) * 1e9);

/**
 * AAC for MP4 snippets; `gated` puts it behind the audio gate (individual recordings; the
 * composite's video starts at once with its background, so it needs none).
 */
export const aacEncoder = (name: string, kbps: number, gated = false): ElementSpec[] => [
  { name: `${name}-conv`, factory: 'audioconvert' },
  { name: `${name}-resample`, factory: 'audioresample' },
  { name: `${name}-caps`, factory: 'capsfilter', props: { caps: 'audio/x-raw,rate=48000,channels=2' } },
  { name, factory: 'avenc_aac', props: { bitrate: kbps * 1000 } },
  { name: `${name}-parse`, factory: 'aacparse' },
  ...(gated ? [{ name: AUDIO_GATE, factory: 'valve', props: { drop: true, 'drop-mode': 'forward-sticky-events' } }] : []),
];
