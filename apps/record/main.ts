// `node dist/apps/record/main.js --config recording.json` (or flags): runs ONE recording without
// Temporal, the way the recording activity does: the hosts' RTP ingest endpoints are opened on
// TAPEDECK_RTP_ADDRESS from TAPEDECK_RTP_PORTS through a MediaSession (the ports the SFU, or
// mock-sfu, sends to; printed, and written as mock-sfu's --endpoints file with --endpoints-out),
// the pipeline runs in its own process behind the supervisor, and progress is printed (snippets
// written, fps, bitrate). Ctrl-C (SIGINT) or SIGTERM stops gracefully: EOS, the last snippet is
// printed, then one summary line, exit 0; a second Ctrl-C kills the pipeline.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { processEnv } from '../common/env';
import { COMPOSITE_DEFAULTS, type HostMedia, type RecordingConfig } from '../../pipelines/config';
import { loadIngestConfig } from '../../pipelines/ingest/config';
import { PortAllocator } from '../../pipelines/ingest/ports';
import { MediaSession } from '../../pipelines/media-session';
import { PipelineSupervisor } from '../../pipelines/supervisor';

const USAGE = `usage: record --config FILE.json [--endpoints-out FILE.json]
       record --kind composite|individual --out DIR [--host ID[:VP8|H264]]... [--audio-only]
              [--snippet-seconds N] [--livestream ID] [--layout grid|active-speaker|spotlight]
              [--endpoints-out FILE.json]
ingest endpoints: TAPEDECK_RTP_ADDRESS (default 127.0.0.1), TAPEDECK_RTP_PORTS (default 40000-40999)`;

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

const hostsOf = (c: RecordingConfig): HostMedia[] => (c.kind === 'composite' ? c.hosts : [c.host]);

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
      'endpoints-out': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || (!values.config && !values.kind)) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  const ingestConfig = loadIngestConfig(processEnv());
  const config: RecordingConfig = values.config ? (JSON.parse(readFileSync(values.config, 'utf8')) as RecordingConfig) : fromFlags(values);
  const session = new MediaSession({ livestreamId: config.livestreamId, address: ingestConfig.rtpAddress, allocator: new PortAllocator(ingestConfig.rtpPorts) });
  session.on('event', (e) => {
    if (e.type === 'sync') console.log(`[record] host ${e.hostId}: lip sync from RTCP, audio delay ${e.audioDelayMs} ms`);
    else if (e.type !== 'attached' && e.type !== 'detached') console.log(`[record] ingest ${e.type} host ${e.hostId}: ${JSON.stringify(e)}`);
  });
  const endpoints = [];
  for (const h of hostsOf(config)) {
    const ep = await session.addHost(h);
    endpoints.push({ hostId: h.hostId, address: ep.address, video: { port: ep.video.port, payloadType: ep.video.payloadType, codec: ep.video.codec }, audio: { port: ep.audio.port, payloadType: ep.audio.payloadType } });
    console.log(`[record] host ${h.hostId}: send video RTP (${ep.video.codec}/${ep.video.payloadType}) to ${ep.address}:${ep.video.port}, audio RTP (${ep.audio.codec}/${ep.audio.payloadType}) to ${ep.address}:${ep.audio.port}; RTCP on the next port or multiplexed`);
  }
  if (values['endpoints-out']) writeFileSync(values['endpoints-out'], `${JSON.stringify(endpoints, null, 2)}\n`);

  const sup = new PipelineSupervisor({ stdio: 'inherit' });
  let snippets = 0;
  let mediaMs = 0;
  let bytes = 0;
  sup.on('event', (e) => {
    if (e.type === 'fragment-closed') {
      snippets++;
      mediaMs += e.durationMs;
      bytes += e.sizeBytes;
      console.log(`[record] snippet ${e.sequence} ${e.location} ${(e.durationMs / 1000).toFixed(2)} s ${e.sizeBytes} bytes (${snippets} written)`);
    } else if (e.type === 'stats') console.log(`[record] ${Math.round(e.stats.uptimeMs / 1000)} s: ${e.stats.fpsOut.toFixed(1)} fps out, ${e.stats.bitrateKbps} kbit/s, ${snippets} snippets, rss ${Math.round(e.stats.rssBytes / 1e6)} MB`);
    else if (e.type === 'warning' || e.type === 'error') console.log(`[record] ${e.type} ${e.code}: ${e.message}`);
    else if (e.type === 'stopped') console.log(`[record] stopped${e.forced ? ' (forced)' : ''}: ${e.reason}${e.graphDump ? ` graph ${e.graphDump}` : ''}`);
  });
  let interrupted = 0;
  const stop = (signal: string) => () => {
    // the first signal finishes the open snippet; a second one does not wait for it
    if (++interrupted === 1) {
      console.log(`[record] ${signal}: stopping (EOS, finishing the last snippet)`);
      void sup.stop(signal);
    } else sup.kill('SIGKILL');
  };
  process.on('SIGINT', stop('SIGINT'));
  process.on('SIGTERM', stop('SIGTERM'));
  let ready;
  try {
    ready = await sup.start(config);
  } catch (err) {
    await session.close();
    throw err;
  }
  session.attach(config.recordingId, sup, ready.inputs);
  console.log(`[record] ${config.recordingId} recording into ${config.spoolDir} (pipeline host pid ${ready.pid})`);
  const exit = await sup.exited;
  await session.close();
  console.log(`[record] done: ${snippets} snippets, ${(mediaMs / 1000).toFixed(2)} s of media, ${bytes} bytes; ${exit.reason}`);
  return exit.clean ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`[record] ${err.message}`);
    process.exitCode = 1;
  },
);
