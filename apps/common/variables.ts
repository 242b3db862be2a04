// Every environment variable Tapedeck reads, declared once. Process config modules
// (apps/*/config.ts) pick the ones they use. Names without the TAPEDECK_ prefix are the
// Google Cloud and Temporal conventions and part of the contract.
import {
  bool,
  bucketName,
  emulatorUrl,
  hostPort,
  httpUrl,
  id,
  int,
  oneOf,
  optionalVariable,
  port,
  projectId,
  str,
  variable,
} from './config';
import { parseApiTokens } from './tokens';
import { parsePortRange } from '../../pipelines/ingest/ports';
import { streamKeyCipherKey } from '../../pipelines/outputs/stream-keys';

const fail = (message: string): never => {
  throw new Error(message);
};

// ---- shared by every process -------------------------------------------------------------------
export const TEMPORAL_ADDRESS = variable({
  name: 'TEMPORAL_ADDRESS',
  default: '127.0.0.1:7233',
  description: 'Temporal frontend gRPC address (host:port)',
  parse: hostPort,
});
export const TEMPORAL_NAMESPACE = variable({
  name: 'TEMPORAL_NAMESPACE',
  default: 'default',
  description: 'Temporal namespace',
  parse: str,
});
// A Temporal cluster that needs TLS (mTLS client certificates, or an API key as Temporal Cloud
// offers): the names are the Temporal CLI's own. Files are read once at start-up.
const readablePath: (raw: string) => string = (raw) => {
  if (raw.length === 0) fail('must not be empty');
  return raw;
};
export const TEMPORAL_TLS = variable({
  name: 'TEMPORAL_TLS',
  default: 'false',
  description: 'connect to Temporal over TLS with the system\'s root certificates (implied by TEMPORAL_TLS_CERT, TEMPORAL_TLS_CA or TEMPORAL_API_KEY)',
  parse: bool,
});
export const TEMPORAL_TLS_CERT = optionalVariable({
  name: 'TEMPORAL_TLS_CERT',
  description: 'PEM file of the mTLS client certificate (with TEMPORAL_TLS_KEY)',
  parse: readablePath,
});
export const TEMPORAL_TLS_KEY = optionalVariable({
  name: 'TEMPORAL_TLS_KEY',
  description: 'PEM file of the mTLS client private key (with TEMPORAL_TLS_CERT)',
  parse: readablePath,
});
export const TEMPORAL_TLS_CA = optionalVariable({
  name: 'TEMPORAL_TLS_CA',
  description: 'PEM file of the CA that signed the server\'s certificate (unset: the system\'s roots)',
  parse: readablePath,
});
export const TEMPORAL_TLS_SERVER_NAME = optionalVariable({
  name: 'TEMPORAL_TLS_SERVER_NAME',
  description: 'server name to verify the server\'s certificate against, when it differs from the address\'s host',
  parse: str,
});
export const TEMPORAL_API_KEY = optionalVariable({
  name: 'TEMPORAL_API_KEY',
  description: 'API key sent as a bearer token on every Temporal call (implies TLS; never logged)',
  parse: str,
});
/** The Temporal connection variables, for a process config to spread in. */
export const temporalVariables = {
  temporalAddress: TEMPORAL_ADDRESS,
  temporalNamespace: TEMPORAL_NAMESPACE,
  temporalTls: TEMPORAL_TLS,
  temporalTlsCert: TEMPORAL_TLS_CERT,
  temporalTlsKey: TEMPORAL_TLS_KEY,
  temporalTlsCa: TEMPORAL_TLS_CA,
  temporalTlsServerName: TEMPORAL_TLS_SERVER_NAME,
  temporalApiKey: TEMPORAL_API_KEY,
};
export const GOOGLE_CLOUD_PROJECT = variable({
  name: 'GOOGLE_CLOUD_PROJECT',
  default: 'tapedeck-local',
  description: 'Google Cloud project id for Cloud Storage and Pub/Sub',
  parse: projectId,
});
export const TAPEDECK_BUCKET = variable({
  name: 'TAPEDECK_BUCKET',
  default: 'tapedeck-local',
  description: 'Cloud Storage bucket for snippets and clips',
  parse: bucketName,
});
export const STORAGE_EMULATOR_HOST = optionalVariable({
  name: 'STORAGE_EMULATOR_HOST',
  description: 'Cloud Storage emulator (URL or host:port); unset means real Cloud Storage',
  parse: emulatorUrl,
});
export const PUBSUB_EMULATOR_HOST = optionalVariable({
  name: 'PUBSUB_EMULATOR_HOST',
  description: 'Pub/Sub emulator (host:port); unset means real Pub/Sub',
  parse: hostPort,
});
export const TAPEDECK_LOG_LEVEL = variable({
  name: 'TAPEDECK_LOG_LEVEL',
  default: 'info',
  description: 'log level: trace, debug, info, warn, error, fatal, silent',
  parse: oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'),
});

// ---- API ---------------------------------------------------------------------------------------
export const TAPEDECK_API_HOST = variable({
  name: 'TAPEDECK_API_HOST',
  default: '127.0.0.1',
  description: 'address the API listens on',
  parse: str,
});
export const TAPEDECK_API_PORT = variable({
  name: 'TAPEDECK_API_PORT',
  default: '3000',
  description: 'port the API listens on',
  parse: port,
});
export const TAPEDECK_API_TOKENS = variable({
  name: 'TAPEDECK_API_TOKENS',
  description: 'bearer tokens per role, `role:token` pairs separated by commas; roles: livestream-service, reviewer, moderation (required by the API; `npm start` generates dev tokens when unset)',
  parse: parseApiTokens,
});
export const TAPEDECK_API_BACKEND_TIMEOUT_MS = variable({
  name: 'TAPEDECK_API_BACKEND_TIMEOUT_MS',
  default: '30000',
  description: 'how long an API request waits for Temporal (including a start waiting for placement) or Cloud Storage before answering 504',
  parse: int(1000, 300_000),
});
export const TAPEDECK_API_BODY_LIMIT_KB = variable({
  name: 'TAPEDECK_API_BODY_LIMIT_KB',
  default: '64',
  description: 'largest JSON request body the API accepts (KiB); larger ones get 413',
  parse: int(1, 10_240),
});
export const TAPEDECK_HEALTH_TIMEOUT_MS = variable({
  name: 'TAPEDECK_HEALTH_TIMEOUT_MS',
  default: '2000',
  description: 'how long /healthz waits for each dependency before calling it down',
  parse: int(100, 60_000),
});

// ---- operator CLI (apps/cli) -------------------------------------------------------------------
export const TAPEDECK_API_URL = variable({
  name: 'TAPEDECK_API_URL',
  default: 'http://127.0.0.1:3000',
  description: 'base URL of the API that the `tapedeck` CLI and the moderator talk to',
  parse: httpUrl,
});
export const TAPEDECK_API_TOKEN = optionalVariable({
  name: 'TAPEDECK_API_TOKEN',
  description: 'bearer token the `tapedeck` CLI (a role allowed to call the command) and the moderator (the moderation role) send; one of TAPEDECK_API_TOKENS',
  // Never echoed: a malformed token is reported by its problem only.
  parse: (raw: string) => (/^[\x21-\x7e]{16,512}$/.test(raw) ? raw : fail('must be 16 to 512 printable ASCII characters without spaces')),
});

// ---- moderator (apps/moderator, the reference scorer) ---------------------------------------------
export const TAPEDECK_MODERATOR_SUBSCRIPTION = variable({
  name: 'TAPEDECK_MODERATOR_SUBSCRIPTION',
  default: 'recording-snippets-moderation',
  description: 'Pub/Sub subscription of `recording-snippets` the moderator reads',
  parse: str,
});
export const TAPEDECK_MODERATOR_THRESHOLD = variable({
  name: 'TAPEDECK_MODERATOR_THRESHOLD',
  default: '0.5',
  description: 'a snippet scoring below this (0..1) is flagged and an extended clip is requested around it',
  parse: (raw: string) => {
    const n = Number(raw);
    return Number.isFinite(n) && n >= 0 && n <= 1 ? n : fail('must be a number from 0 to 1');
  },
});
export const TAPEDECK_MODERATOR_CLIP_MARGIN_SECONDS = variable({
  name: 'TAPEDECK_MODERATOR_CLIP_MARGIN_SECONDS',
  default: '10',
  description: "the clip requested for a flagged snippet runs from the snippet's start minus this to its end plus this, seconds",
  parse: int(0, 600),
});
export const TAPEDECK_MODERATOR_ANALYSIS_TIMEOUT_MS = variable({
  name: 'TAPEDECK_MODERATOR_ANALYSIS_TIMEOUT_MS',
  default: '60000',
  description: 'longest time the GStreamer analysis of one snippet may take before it is killed and the snippet reported as not scored',
  parse: int(1000, 600_000),
});
export const TAPEDECK_MODERATOR_CONCURRENCY = variable({
  name: 'TAPEDECK_MODERATOR_CONCURRENCY',
  default: '1',
  description: 'snippets the moderator analyses at the same time (one GStreamer process each)',
  parse: int(1, 64),
});
export const TAPEDECK_MODERATOR_HTTP_HOST = variable({
  name: 'TAPEDECK_MODERATOR_HTTP_HOST',
  default: '127.0.0.1',
  description: "address of the moderator's health endpoint",
  parse: str,
});
export const TAPEDECK_MODERATOR_HTTP_PORT = variable({
  name: 'TAPEDECK_MODERATOR_HTTP_PORT',
  default: '3002',
  description: "port of the moderator's health endpoint (`GET /healthz` with its counts); 0 picks a free one",
  parse: int(0, 65535),
});

// ---- extended clips -----------------------------------------------------------------------------
export const TAPEDECK_CLIPS_TASK_QUEUE = variable({
  name: 'TAPEDECK_CLIPS_TASK_QUEUE',
  default: 'tapedeck-clips',
  description: 'task queue of the clip activities (list, merge, upload, notify); every media worker polls it, the API sends clip workflows there',
  parse: str,
});
export const TAPEDECK_CLIP_MAX_SECONDS = variable({
  name: 'TAPEDECK_CLIP_MAX_SECONDS',
  default: '7200',
  description: 'longest clip range (end - start) the API accepts, in seconds',
  parse: int(1, 24 * 3600),
});
export const TAPEDECK_CLIP_WAIT_SECONDS = variable({
  name: 'TAPEDECK_CLIP_WAIT_SECONDS',
  default: '120',
  description: "how long after a clip's end time its workflow waits for the range's snippets to be shipped before merging what is there",
  parse: int(0, 24 * 3600),
});
export const TAPEDECK_CLIP_URL_TTL_SECONDS = variable({
  name: 'TAPEDECK_CLIP_URL_TTL_SECONDS',
  default: '3600',
  description: "lifetime of the signed URL in a ready clip's status, in seconds (V4 signing allows at most 7 days)",
  parse: int(60, 7 * 24 * 3600),
});
export const TAPEDECK_CLIP_WORK_DIR = variable({
  name: 'TAPEDECK_CLIP_WORK_DIR',
  default: '.data/clips',
  description: "scratch folder where a media worker downloads and merges a clip's snippets (one subfolder per merge, removed afterwards)",
  parse: str,
});
export const TAPEDECK_CLIP_WEBHOOK_URL = optionalVariable({
  name: 'TAPEDECK_CLIP_WEBHOOK_URL',
  description: 'moderation webhook: every clip message (ready or failed) is POSTed here, signed; unset means no webhook',
  parse: httpUrl,
});
export const TAPEDECK_STREAM_KEY_SECRET = optionalVariable({
  name: 'TAPEDECK_STREAM_KEY_SECRET',
  description:
    'secret that seals RTMP stream keys before they enter Temporal (API) and opens them for the pipeline (media workers); the same value on both; at least 32 characters (unset: keys travel in plain text; `npm start` generates one; never echoed)',
  // Parsed straight into the cipher key: the secret itself is kept nowhere.
  parse: (raw: string) => (raw.length >= 32 ? streamKeyCipherKey(raw) : fail('must be at least 32 characters')),
});
export const TAPEDECK_CLIP_WEBHOOK_SECRET = optionalVariable({
  name: 'TAPEDECK_CLIP_WEBHOOK_SECRET',
  description: 'shared secret of the webhook\'s `X-Tapedeck-Signature` HMAC-SHA256 (required with TAPEDECK_CLIP_WEBHOOK_URL; never echoed)',
  parse: (raw: string) => (raw.length >= 16 ? raw : fail('must be at least 16 characters')),
});
export const TAPEDECK_CLIP_WEBHOOK_TIMEOUT_MS = variable({
  name: 'TAPEDECK_CLIP_WEBHOOK_TIMEOUT_MS',
  default: '10000',
  description: 'how long one webhook POST may take before it counts as a failed attempt',
  parse: int(100, 120_000),
});

// ---- worker ------------------------------------------------------------------------------------
export const TAPEDECK_WORKER_ROLES = variable({
  name: 'TAPEDECK_WORKER_ROLES',
  default: 'control,media',
  description: 'roles this worker runs: control (workflows), media (ingest, recording, shipping), or both',
  parse: (raw) => {
    const roles = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
    if (roles.length === 0) throw new Error('must name at least one role');
    for (const r of roles) if (r !== 'control' && r !== 'media') throw new Error(`"${r}" is not a role (control, media)`);
    return roles as Array<'control' | 'media'>;
  },
});
export const TAPEDECK_WORKER_ID = optionalVariable({
  name: 'TAPEDECK_WORKER_ID',
  description: "this media worker's id, which names its own task queue (`tapedeck-media-{id}`); default: the host name",
  parse: id,
});
export const TAPEDECK_TASK_QUEUE = variable({
  name: 'TAPEDECK_TASK_QUEUE',
  default: 'tapedeck-control',
  description: 'task queue of the control role (workflows and control activities)',
  parse: str,
});
export const TAPEDECK_WORKER_HTTP_HOST = variable({
  name: 'TAPEDECK_WORKER_HTTP_HOST',
  default: '127.0.0.1',
  description: "address of the worker's health endpoint",
  parse: str,
});
export const TAPEDECK_WORKER_HTTP_PORT = variable({
  name: 'TAPEDECK_WORKER_HTTP_PORT',
  default: '3001',
  description: "port of the worker's health endpoint (`GET /healthz`); 0 picks a free one",
  parse: int(0, 65535),
});
export const TAPEDECK_SHUTDOWN_GRACE_MS = variable({
  name: 'TAPEDECK_SHUTDOWN_GRACE_MS',
  default: '30000',
  description: 'how long a stopping worker lets running activities finish before cancelling them',
  parse: int(0, 3_600_000),
});

export const TAPEDECK_MEDIA_CAPACITY_CORES = optionalVariable({
  name: 'TAPEDECK_MEDIA_CAPACITY_CORES',
  description: 'CPU cores a media worker offers to recordings (estimated cost per recording, see workflows/capacity.ts); default: 0.8 × the number of CPUs',
  parse: (raw) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > 1024) throw new Error(`"${raw}" is not a positive number of cores`);
    return n;
  },
});
export const TAPEDECK_MEDIA_REPORT_MS = variable({
  name: 'TAPEDECK_MEDIA_REPORT_MS',
  default: '5000',
  description: 'how often a media worker reports its free capacity to the media registry',
  parse: int(500, 60_000),
});
export const TAPEDECK_PLACEMENT_FRESH_MS = variable({
  name: 'TAPEDECK_PLACEMENT_FRESH_MS',
  default: '30000',
  description: 'a media worker whose last capacity report is older than this is not chosen for new livestreams',
  parse: int(1000, 600_000),
});

// ---- recording (media role: activities/media) ---------------------------------------------------
export const TAPEDECK_SPOOL_DIR = variable({
  name: 'TAPEDECK_SPOOL_DIR',
  default: '.data/spool',
  description: "where a media worker's pipelines write snippets until shipping has uploaded and announced them (`{livestreamId}/{recording}/{run}/`)",
  parse: str,
});
export const TAPEDECK_SNIPPET_SECONDS = variable({
  name: 'TAPEDECK_SNIPPET_SECONDS',
  default: '15',
  description: 'snippet length of new livestreams (the contract says 15; shorter only for tests and demos)',
  parse: int(2, 300),
});
export const TAPEDECK_COMPOSITE_VIDEO_KBPS = variable({
  name: 'TAPEDECK_COMPOSITE_VIDEO_KBPS',
  default: '5000',
  description: 'bitrate cap of the composite H.264 (x264) encode, kbit/s',
  parse: int(100, 50_000),
});
export const TAPEDECK_INDIVIDUAL_VIDEO_KBPS = variable({
  name: 'TAPEDECK_INDIVIDUAL_VIDEO_KBPS',
  default: '2000',
  description: 'bitrate cap when a VP8 host is transcoded to H.264 for its individual recording, kbit/s',
  parse: int(100, 50_000),
});
export const TAPEDECK_AUDIO_KBPS = variable({
  name: 'TAPEDECK_AUDIO_KBPS',
  default: '44',
  description: 'AAC bitrate of recordings, kbit/s',
  parse: int(16, 320),
});
export const TAPEDECK_X264_PRESET = variable({
  name: 'TAPEDECK_X264_PRESET',
  default: 'ultrafast',
  description: 'x264 speed preset of the composite (ultrafast, superfast, veryfast, faster, fast, medium)',
  parse: oneOf('ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'),
});
export const TAPEDECK_NO_MEDIA_WARNING_MS = variable({
  name: 'TAPEDECK_NO_MEDIA_WARNING_MS',
  default: '10000',
  description: 'a recording that receives no packets for this long reports a `no-media` warning',
  parse: int(1000, 600_000),
});
export const TAPEDECK_LOSS_WARNING_PERCENT = variable({
  name: 'TAPEDECK_LOSS_WARNING_PERCENT',
  default: '5',
  description: 'a host losing this percent of its RTP packets or more (over the last 30 s) is a `packet-loss` warning on the livestream status',
  parse: int(1, 100),
});
export const TAPEDECK_STOP_TIMEOUT_MS = variable({
  name: 'TAPEDECK_STOP_TIMEOUT_MS',
  default: '10000',
  description: 'how long a stopping pipeline may take to finalize its last snippet before it is killed (with a graph dump)',
  parse: int(500, 600_000),
});
export const TAPEDECK_OPUS_SIZE_CACHE = variable({
  name: 'TAPEDECK_OPUS_SIZE_CACHE',
  default: 'true',
  description:
    "preload `.tools/lib/libtapedeck-opus-size-cache.so` (built by `infra/install.sh`) into pipeline hosts: Debian's libopus probes the CPU (CPUID, a trap to the hypervisor on a virtual machine) for every Opus packet decoded, and the library answers the probing call from a cache. Off, or not built: libopus as installed",
  parse: bool,
});
export const TAPEDECK_HLS_SEGMENT_SECONDS = variable({
  name: 'TAPEDECK_HLS_SEGMENT_SECONDS',
  default: '4',
  description: 'target length of the composite\'s live HLS segments, seconds (a keyframe is requested at each cut)',
  parse: int(2, 6),
});
export const TAPEDECK_HLS_PLAYLIST_LENGTH = variable({
  name: 'TAPEDECK_HLS_PLAYLIST_LENGTH',
  default: '6',
  description: 'segments listed in the rolling live HLS playlist',
  parse: int(3, 100),
});
export const TAPEDECK_RTMP_MAX_RETRIES = variable({
  name: 'TAPEDECK_RTMP_MAX_RETRIES',
  default: '0',
  description: 'consecutive failed attempts after which an RTMP destination is reported `failed` and no longer retried; 0 retries for as long as the livestream runs',
  parse: int(0, 1000),
});
export const TAPEDECK_RTMPS_ALLOW_UNKNOWN_CA = variable({
  name: 'TAPEDECK_RTMPS_ALLOW_UNKNOWN_CA',
  default: 'false',
  description:
    "accept an `rtmps://` destination's certificate from a CA this machine does not trust (a private ingest with its own CA); the name, dates and the rest are still checked. Off: only the system's root certificates",
  parse: bool,
});
export const TAPEDECK_RECORD_HEARTBEAT_MS = variable({
  name: 'TAPEDECK_RECORD_HEARTBEAT_MS',
  default: '5000',
  description: 'how often the record activity heartbeats its progress (last snippet, frames, bitrate, warnings)',
  parse: int(100, 60_000),
});

// ---- shipping (media role: activities/ship) ----------------------------------------------------
export const TAPEDECK_SHIP_RESCAN_MS = variable({
  name: 'TAPEDECK_SHIP_RESCAN_MS',
  default: '5000',
  description: 'how often shipping rescans a spool folder in full (file events wake it sooner; the rescan catches missed ones)',
  parse: int(100, 600_000),
});
export const TAPEDECK_SHIP_HEARTBEAT_MS = variable({
  name: 'TAPEDECK_SHIP_HEARTBEAT_MS',
  default: '5000',
  description: 'how often the shipRecording activity heartbeats its progress (keep it well below the heartbeat timeout)',
  parse: int(100, 600_000),
});
export const TAPEDECK_SHIP_BACKOFF_MAX_MS = variable({
  name: 'TAPEDECK_SHIP_BACKOFF_MAX_MS',
  default: '30000',
  description: 'longest wait between shipping retries while Cloud Storage or Pub/Sub is unreachable (exponential from 500 ms, jittered)',
  parse: int(500, 600_000),
});
export const TAPEDECK_SHIP_PUBLISH_TIMEOUT_MS = variable({
  name: 'TAPEDECK_SHIP_PUBLISH_TIMEOUT_MS',
  default: '10000',
  description: 'how long a snippet publish may wait for its ack before it is retried',
  parse: int(500, 600_000),
});
export const TAPEDECK_SHIP_SPOOL_WARN_MB = variable({
  name: 'TAPEDECK_SHIP_SPOOL_WARN_MB',
  default: '2048',
  description: "a recording's spool folder above this size (MB) is reported as a warning (nothing is ever dropped)",
  parse: int(1, 10_000_000),
});
export const TAPEDECK_SHIP_MIN_FREE_MB = variable({
  name: 'TAPEDECK_SHIP_MIN_FREE_MB',
  default: '1024',
  description: "free space (MB) on the spool's disk below which shipping reports a warning",
  parse: int(0, 10_000_000),
});

// ---- RTP ingest (media role) ---------------------------------------------------------------------
export const TAPEDECK_RTP_ADDRESS = variable({
  name: 'TAPEDECK_RTP_ADDRESS',
  default: '127.0.0.1',
  description: 'address the RTP ingest binds its UDP ports on and announces to the SFU',
  parse: str,
});
export const TAPEDECK_RTP_PORTS = variable({
  name: 'TAPEDECK_RTP_PORTS',
  default: '40000-40999',
  description: 'inclusive UDP port range of the RTP ingest; each medium of each host takes an even RTP port and the odd one after it for RTCP',
  parse: parsePortRange,
});

// ---- local stack (npm start) -------------------------------------------------------------------
export const TAPEDECK_DATA_DIR = variable({
  name: 'TAPEDECK_DATA_DIR',
  default: '.data',
  description: 'where `npm start` keeps the Temporal SQLite file, the GCS emulator files, logs and dev tokens',
  parse: str,
});
export const TAPEDECK_TEMPORAL_UI_PORT = variable({
  name: 'TAPEDECK_TEMPORAL_UI_PORT',
  default: '8233',
  description: 'port of the Temporal Web UI started by `npm start`',
  parse: port,
});
export const TAPEDECK_PUBSUB_EMULATOR = variable({
  name: 'TAPEDECK_PUBSUB_EMULATOR',
  default: 'auto',
  description: "which Pub/Sub emulator `npm start` runs: gcloud (the Google Cloud CLI's), pstest (infra/pubsub-emulator), or auto (gcloud where installed)",
  parse: oneOf('auto', 'gcloud', 'pstest'),
});
export const TAPEDECK_STARTUP_TIMEOUT_MS = variable({
  name: 'TAPEDECK_STARTUP_TIMEOUT_MS',
  default: '60000',
  description: 'how long `npm start` waits for each component to answer',
  parse: int(1000, 600_000),
});
export const TAPEDECK_STACK_REUSE = variable({
  name: 'TAPEDECK_STACK_REUSE',
  default: 'true',
  description: 'whether `npm start` uses a Temporal server or emulator already answering on its port instead of failing',
  parse: bool,
});

// ---- installer (infra/install.sh reads it; declared so processes do not reject it as unknown) --
export const TAPEDECK_SKIP_APT = variable({
  name: 'TAPEDECK_SKIP_APT',
  default: '0',
  description: '`1` makes infra/install.sh skip the Debian package step (machines managed by other means)',
  parse: bool,
});
