// `node dist/apps/mock-sfu/main.js`: the test sender as a command. Sends N hosts of VP8/H.264 +
// Opus RTP in real time to the given endpoints, prints the send statistics as JSON at the end, and
// takes commands on stdin while it runs: `camera HOST on|off`, `mic HOST on|off`,
// `freeze HOST on|off`, `silence HOST on|off`, `ssrc HOST video|audio`, `badpt HOST video|audio PT`, `malformed HOST video|audio`, `stats`, `stop`.
//
//   --hosts N                 number of hosts (default: as many as --target/--endpoints give, else 1)
//   --codecs vp8,h264         video codec per host, cycled (default vp8)
//   --target A:P,A:P,...      video and audio RTP endpoints, two per host, in host order
//   --endpoints FILE.json     [{hostId, address, video: {port, payloadType?, codec?}, audio: {port, payloadType?}}]
//                             (the shape the API returns for a host's ingest)
//   --duration S              seconds to send (default: until stdin says stop or SIGINT/SIGTERM)
//   --loss P --reorder P --duplicate P --seed N    fault injection per RTP packet
//   --rtcp next-port|mux|none (default next-port)   --audio-lag-ms MS   --h264-mode 0|1
//   --frozen HOST,HOST  --silent HOST,HOST   hosts whose picture is frozen / whose microphone sends silence
//   --clip-seconds S (default 10)  --size 640x480  --fps 30  --mtu 1200
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { MockSfu, type MockHostSpec, type MockSfuOptions, type RtcpMode } from './sender';
import type { MockVideoCodec } from './media';

function fail(message: string): never {
  process.stderr.write(`mock-sfu: ${message}\n`);
  process.exit(64);
}

function num(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number in ${min}..${max}, got "${raw}"`);
  return n;
}

function endpoint(raw: string): { address: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(raw.trim());
  if (!m) fail(`"${raw}" is not address:port`);
  return { address: m[1]!, port: Number(m[2]) };
}

export function parseCli(argv: string[]): { options: MockSfuOptions; durationS: number | undefined } {
  const { values } = parseArgs({
    args: argv,
    options: {
      hosts: { type: 'string' },
      codecs: { type: 'string', default: 'vp8' },
      target: { type: 'string' },
      endpoints: { type: 'string' },
      duration: { type: 'string' },
      loss: { type: 'string' },
      reorder: { type: 'string' },
      duplicate: { type: 'string' },
      seed: { type: 'string' },
      rtcp: { type: 'string', default: 'next-port' },
      'audio-lag-ms': { type: 'string' },
      'h264-mode': { type: 'string' },
      'clip-seconds': { type: 'string' },
      size: { type: 'string', default: '640x480' },
      fps: { type: 'string' },
      mtu: { type: 'string' },
      frozen: { type: 'string' },
      silent: { type: 'string' },
    },
  });
  const codecs = values.codecs.split(',').map((c): MockVideoCodec => {
    const u = c.trim().toUpperCase().replace('.', '');
    if (u !== 'VP8' && u !== 'H264') fail(`--codecs: "${c}" is not vp8 or h264`);
    return u;
  });
  let hosts: MockHostSpec[] = [];
  if (values.endpoints) {
    const list = JSON.parse(readFileSync(values.endpoints, 'utf8')) as MockHostSpec[];
    if (!Array.isArray(list)) fail('--endpoints must hold a JSON array');
    hosts = list;
  } else if (values.target) {
    const eps = values.target.split(',').map(endpoint);
    if (eps.length % 2 !== 0) fail('--target takes two endpoints per host: video, audio');
    for (let i = 0; i < eps.length; i += 2) {
      const n = i / 2;
      hosts.push({ hostId: `host-${n + 1}`, address: eps[i]!.address, video: { port: eps[i]!.port, codec: codecs[n % codecs.length]! }, audio: { port: eps[i + 1]!.port } });
    }
  } else {
    fail('give --target or --endpoints');
  }
  const count = num('hosts', values.hosts, 1, 1000) ?? hosts.length;
  if (count > hosts.length) fail(`--hosts ${count} but only ${hosts.length} hosts' endpoints given`);
  const listed = (raw: string | undefined) => new Set((raw ?? '').split(',').map((x) => x.trim()).filter(Boolean));
  const frozen = listed(values.frozen);
  const silent = listed(values.silent);
  hosts = hosts.slice(0, count).map((h, i) => ({
    ...h,
    video: { ...h.video, codec: h.video.codec ?? codecs[i % codecs.length]! },
    ...(frozen.has(h.hostId) ? { frozen: true } : {}),
    ...(silent.has(h.hostId) ? { silent: true } : {}),
  }));
  for (const id of [...frozen, ...silent]) if (!hosts.some((h) => h.hostId === id)) fail(`--frozen/--silent: no host "${id}"`);
  const rtcp = values.rtcp as RtcpMode;
  if (!['next-port', 'mux', 'none'].includes(rtcp)) fail('--rtcp must be next-port, mux or none');
  const size = /^(\d+)x(\d+)$/.exec(values.size);
  if (!size) fail('--size must be WIDTHxHEIGHT');
  const h264Mode = num('h264-mode', values['h264-mode'], 0, 1);
  const options: MockSfuOptions = {
    hosts,
    width: Number(size[1]),
    height: Number(size[2]),
    fps: num('fps', values.fps, 1, 60) ?? 30,
    clipSeconds: num('clip-seconds', values['clip-seconds'], 1, 120) ?? 10,
    mtu: num('mtu', values.mtu, 200, 9000) ?? 1200,
    rtcp,
    audioLagMs: num('audio-lag-ms', values['audio-lag-ms'], -5000, 5000) ?? 0,
    faults: {
      loss: num('loss', values.loss, 0, 1) ?? 0,
      reorder: num('reorder', values.reorder, 0, 1) ?? 0,
      duplicate: num('duplicate', values.duplicate, 0, 1) ?? 0,
      seed: num('seed', values.seed, 0, 2 ** 32 - 1) ?? 1,
    },
  };
  if (h264Mode !== undefined) options.h264Mode = h264Mode as 0 | 1;
  return { options, durationS: num('duration', values.duration, 0.1, 86_400) };
}

async function main(): Promise<void> {
  const { options, durationS } = parseCli(process.argv.slice(2));
  const sfu = await MockSfu.create(options);
  let stopping = false;
  let cpuAtStart = process.cpuUsage();
  let startedAt = performance.now();
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    const cpu = process.cpuUsage(cpuAtStart);
    const seconds = (performance.now() - startedAt) / 1000;
    await sfu.stop();
    const usage = {
      seconds: Number(seconds.toFixed(3)),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
      cpuPercentOfOneCore: Number((((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(1)),
      maxRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
    };
    process.stdout.write(`${JSON.stringify({ event: 'stopped', reason: why, usage, stats: sfu.stats(), sendErrors: sfu.errors })}\n`);
    process.exit(0);
  };
  // CPU is measured from here: encoding the clips (first run only) is not part of sending
  cpuAtStart = process.cpuUsage();
  startedAt = performance.now();
  sfu.start();
  process.stdout.write(`${JSON.stringify({ event: 'sending', hosts: options.hosts.map((h) => h.hostId), from: `127.0.0.1:${sfu.localPort}` })}\n`);
  if (durationS !== undefined) setTimeout(() => void stop('duration'), durationS * 1000);
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, host, a, b] = line.trim().split(/\s+/);
    try {
      const medium = (a === 'audio' ? 'audio' : 'video') as 'video' | 'audio';
      if (cmd === 'camera' && host) sfu.camera(host, a === 'on');
      else if (cmd === 'mic' && host) sfu.microphone(host, a === 'on');
      else if (cmd === 'freeze' && host) sfu.freeze(host, a === 'on');
      else if (cmd === 'silence' && host) sfu.silence(host, a === 'on');
      else if (cmd === 'ssrc' && host) sfu.changeSsrc(host, medium);
      else if (cmd === 'badpt' && host) sfu.sendUndeclaredPayloadType(host, medium, Number(b ?? 100));
      else if (cmd === 'malformed' && host) sfu.sendMalformed(host, medium);
      else if (cmd === 'stats') process.stdout.write(`${JSON.stringify({ event: 'stats', stats: sfu.stats() })}\n`);
      else if (cmd === 'stop') void stop('stdin');
      else if (cmd) throw new Error(`unknown command "${line.trim()}"`);
      if (cmd && cmd !== 'stats' && cmd !== 'stop') process.stdout.write(`${JSON.stringify({ event: 'ok', command: line.trim() })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ event: 'error', message: (e as Error).message })}\n`);
    }
  });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`mock-sfu: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
