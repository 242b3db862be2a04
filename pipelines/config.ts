// What a recording is, as data: the validated input to the pipeline builders and the pipeline
// host. Shared by the media plane (pipelines/, activities/ingest), the recording activities and
// the workflows (type-only there). No Node or GStreamer imports: workflows may import these types.

export type VideoCodec = 'VP8' | 'H264';
export type AudioCodec = 'OPUS';
export type LayoutKind = 'grid' | 'active-speaker' | 'spotlight';

export interface Layout {
  kind: LayoutKind;
  /** For spotlight (required) and active-speaker (optional pin). */
  spotlightHostId?: string;
}

export interface HostMedia {
  hostId: string;
  displayName: string;
  video: { codec: VideoCodec; payloadType: number };
  audio: { codec: AudioCodec; payloadType: number };
  camera: boolean;
  microphone: boolean;
}

export const RTP_CLOCK = { video: 90_000, audio: 48_000 } as const;

interface RecordingCommon {
  livestreamId: string;
  /** `composite` or `host-{hostId}-{n}`; names the spool folder and the object prefix. */
  recordingId: string;
  /** Folder this recording's snippets are written to (spool root / livestream / recording). */
  spoolDir: string;
  /** Snippet length; 15 s in production, shorter in some tests. */
  snippetSeconds: number;
  /** Sequence number of the first snippet this run writes (a retry continues the numbering). */
  startSequence: number;
  audioBitrateKbps: number;
  /** No packet from any input for this long is reported as a `no-media` warning. */
  noMediaWarningMs: number;
  /** EOS is given this long to finalize the last snippet before the process is killed. */
  stopTimeoutMs: number;
  /** How often the host emits a `stats` event (default 5000). */
  statsIntervalMs?: number;
  /** rtpjitterbuffer latency: how long reordered packets are waited for (default 200). */
  jitterLatencyMs?: number;
}

export interface CompositeRecordingConfig extends RecordingCommon {
  kind: 'composite';
  width: number;
  height: number;
  fps: number;
  videoBitrateKbps: number;
  x264Preset: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
  layout: Layout;
  hosts: HostMedia[];
  /** Live outputs at start (pipelines/outputs/); RTMP destinations change later with `set-outputs`. */
  outputs?: CompositeOutputsConfig;
}

export interface CompositeOutputsConfig {
  rtmp: string[];
  /** HLS rendition written to `{spoolDir}/hls/`. */
  hls?: { segmentSeconds: number; playlistLength: number };
  /** Consecutive failed attempts after which an RTMP destination is reported failed (0: retry for ever). */
  rtmpMaxRetries?: number;
  /** `rtmps://` destinations accept a certificate from a CA the machine does not trust; name and dates still checked. */
  rtmpsAllowUnknownCa?: boolean;
}

export interface IndividualRecordingConfig extends RecordingCommon {
  kind: 'individual';
  hostId: string;
  /** `av`: MP4 with H.264 (passed through when sent as H.264, else transcoded) + AAC; `audio`: MP3. */
  variant: 'av' | 'audio';
  host: HostMedia;
  /** Bitrate cap when VP8 has to be transcoded to H.264. */
  videoBitrateKbps: number;
}

export type RecordingConfig = CompositeRecordingConfig | IndividualRecordingConfig;

export const COMPOSITE_DEFAULTS = {
  width: 640,
  height: 360,
  fps: 15,
  videoBitrateKbps: 5000,
  audioBitrateKbps: 44,
  x264Preset: 'ultrafast',
  snippetSeconds: 15,
} as const;
