// `node dist/apps/record/main.js --config recording.json` (or flags): runs ONE recording through
// the pipeline supervisor without Temporal and prints the input ports to send RTP to, then
// progress (snippets written, fps, bitrate). Ctrl-C stops gracefully (EOS; the last snippet is kept).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { COMPOSITE_DEFAULTS, type HostMedia, type RecordingConfig } from '../../pipelines/config';
import { PipelineSupervisor } from '../../pipelines/supervisor';

const USAGE = `usage: record --config FILE.json
       record --kind composite|individual --out DIR [--host ID[:VP8|H264]]... [--audio-only]
              [--snippet-seconds N] [--livestream ID] [--layout grid|active-speaker|spotlight]`;

function fromFlags(v: Record<string, string | boolean | string[] | undefined>): RecordingConfig {
  const hosts: HostMedia[] = ((v.host as string[] | undefined) ?? []).map((h) => {
    const [hostId, codec] = h.split(':');
    return { hostId: hostId!, displayName: hostId!, video: { codec: codec === 'H264' ? 'H264' : 'VP8', payloadType: 96 }, audio: { codec: 'OPUS', payloadType: 111 }, camera: true, microphone: true };
  });
  const common = {
    livestreamId: String(v.livestream ?? 'local'),
    spoolDir: resolve(String(v.out ?? 'recording')),
    snippetSeconds: Number(v['snippet-seconds'] ?? COMPOSITE_DEFAULTS.snippetSeconds),
    startSequence: 0,
    audioBitrateKbps: COMPOSITE_DEFAULTS.audioBitrateKbps,
    noMediaWarningMs: 10_000,
    stopTimeoutMs: 10_000,
  };
  if (v.kind === 'individual') {
    const host = hosts[0];
    if (!host) throw new Error('--kind individual needs one --host');
    return { ...common, kind: 'individual', recordingId: `host-${host.hostId}-1`, hostId: host.hostId, host, variant: v['audio-only'] ? 'audio' : 'av', videoBitrateKbps: 2000 };
  }
  const layout = String(v.layout ?? 'grid') as 'grid';
  return { ...common, kind: 'composite', recordingId: 'composite', ...COMPOSITE_DEFAULTS, snippetSeconds: common.snippetSeconds, layout: { kind: layout }, hosts };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      kind: { type: 'string' },
      out: { type: 'string' },
      host: { type: 'string', multiple: true },
      'audio-only': { type: 'boolean' },
      'snippet-seconds': { type: 'string' },
      livestream: { type: 'string' },
      layout: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || (!values.config && !values.kind)) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  const config: RecordingConfig = values.config ? (JSON.parse(readFileSync(values.config, 'utf8')) as RecordingConfig) : fromFlags(values);
  const sup = new PipelineSupervisor({ stdio: 'inherit' });
  let snippets = 0;
  sup.on('event', (e) => {
    if (e.type === 'fragment-closed') console.log(`[record] snippet ${e.sequence} ${e.location} ${(e.durationMs / 1000).toFixed(2)} s ${e.sizeBytes} bytes (${++snippets} written)`);
    else if (e.type === 'stats') console.log(`[record] ${Math.round(e.stats.uptimeMs / 1000)} s: ${e.stats.fpsOut.toFixed(1)} fps out, ${e.stats.bitrateKbps} kbit/s, ${snippets} snippets, rss ${Math.round(e.stats.rssBytes / 1e6)} MB`);
    else if (e.type === 'warning' || e.type === 'error') console.log(`[record] ${e.type} ${e.code}: ${e.message}`);
    else if (e.type === 'input-added') console.log(`[record] host ${e.inputs.hostId}: video RTP → 127.0.0.1:${e.inputs.video?.rtpPort}, audio RTP → 127.0.0.1:${e.inputs.audio?.rtpPort}`);
    else if (e.type === 'stopped') console.log(`[record] stopped${e.forced ? ' (forced)' : ''}: ${e.reason}${e.graphDump ? ` graph ${e.graphDump}` : ''}`);
  });
  const ready = await sup.start(config);
  console.log(`[record] ${config.recordingId} recording into ${config.spoolDir} (pipeline host pid ${ready.pid})`);
  for (const i of ready.inputs) console.log(`[record] host ${i.hostId}: video RTP → 127.0.0.1:${i.video?.rtpPort ?? '-'}, audio RTP → 127.0.0.1:${i.audio?.rtpPort ?? '-'}`);
  const stop = () => void sup.stop('Ctrl-C');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const exit = await sup.exited;
  console.log(`[record] ${snippets} snippets written; ${exit.reason}`);
  return exit.clean ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[record] ${err.message}`);
    process.exit(1);
  },
);
