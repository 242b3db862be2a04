// Proves the mock SFU's packetizers against real GStreamer: mock-sfu → HostIngest → gst-launch-1.0
// (udpsrc → rtpjitterbuffer → depayloader → Matroska file), for VP8, H.264 packetization mode 1
// (FU-A, STAP-A) and mode 0 (single NAL units), each with Opus. The file must be recognised by
// gst-discoverer-1.0, decode without a single error in ffmpeg (-xerror), hold the frames that were
// sent, and show the flash and the beep of the test pattern together (within 15 ms, half a frame).
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MockSfu } from '../../apps/mock-sfu/sender';
import { HostIngest, PortAllocator } from '../../pipelines/ingest';
import { measureAvSync } from '../support/av-sync';
import { freeUdpPort, sleep } from '../support/udp';

const dir = mkdtempSync(join(tmpdir(), 'tapedeck-gst-rx-'));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const CAPS = {
  VP8: { caps: 'application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=96', depay: 'rtpvp8depay' },
  H264: { caps: 'application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=102', depay: 'rtph264depay ! h264parse' },
};
const OPUS = 'application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=111';

/** gst-launch-1.0 receiving two RTP ports into a Matroska file; -e turns SIGINT into EOS. */
function receiver(codec: 'VP8' | 'H264', videoPort: number, audioPort: number, out: string) {
  const v = CAPS[codec];
  const args = [
    '-e',
    'matroskamux', 'name=mux', '!', 'filesink', `location=${out}`,
    'udpsrc', 'address=127.0.0.1', `port=${videoPort}`, `caps=${v.caps}`, '!', 'rtpjitterbuffer', 'latency=300', '!', ...v.depay.split(' '), '!', 'queue', '!', 'mux.',
    'udpsrc', 'address=127.0.0.1', `port=${audioPort}`, `caps=${OPUS}`, '!', 'rtpjitterbuffer', 'latency=300', '!', 'rtpopusdepay', '!', 'opusparse', '!', 'queue', '!', 'mux.',
  ];
  const child = spawn('gst-launch-1.0', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  cleanups.push(async () => kill('SIGKILL'));
  return {
    output: () => output,
    async waitPlaying(timeoutMs: number) {
      const until = Date.now() + timeoutMs;
      while (!/Setting pipeline to PLAYING/.test(output)) {
        if (Date.now() > until) throw new Error(`gst-launch did not start: ${output}`);
        await sleep(50);
      }
      await sleep(300);
    },
    /** EOS, then up to 10 s to finish the file; stock gst-launch sometimes hangs after EOS. */
    async stop() {
      kill('SIGINT');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') kill('SIGKILL');
      return code;
    },
  };
}

function ffprobeVideo(file: string): { codec: string; width: number; height: number; frames: number } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file], { encoding: 'utf8', timeout: 60_000 });
  const s = JSON.parse(r.stdout).streams[0];
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

const cases = [
  { name: 'VP8 + Opus', codec: 'VP8' as const, h264Mode: undefined, ffCodec: 'vp8', discoverer: /VP8/ },
  { name: 'H.264 packetization mode 1 (FU-A, STAP-A) + Opus', codec: 'H264' as const, h264Mode: 1 as const, ffCodec: 'h264', discoverer: /H\.264/ },
  { name: 'H.264 packetization mode 0 (single NAL units) + Opus', codec: 'H264' as const, h264Mode: 0 as const, ffCodec: 'h264', discoverer: /H\.264/ },
];

describe('GStreamer decodes what the mock SFU sends', { timeout: 180_000 }, () => {
  for (const c of cases) {
    it(c.name, async (t) => {
      // pipeline ports: where a recording's udpsrc would listen
      const [videoPort, audioPort] = [await freeUdpPort(), await freeUdpPort()];
      const base = (await freeUdpPort()) & ~1;
      const ingest = await HostIngest.open({
        livestreamId: 'ls-gst',
        hostId: 'host-gst',
        address: '127.0.0.1',
        allocator: new PortAllocator({ first: base, last: base + 7 }),
        video: { codec: c.codec, payloadType: c.codec === 'VP8' ? 96 : 102 },
      });
      cleanups.push(() => ingest.close());
      ingest.subscribe('recording', { video: { rtpPort: videoPort }, audio: { rtpPort: audioPort } });
      const out = join(dir, `${c.codec}-${c.h264Mode ?? 'x'}.mkv`);
      const rx = receiver(c.codec, videoPort, audioPort, out);
      await rx.waitPlaying(15_000);
      const ep = ingest.describe();
      const sfu = await MockSfu.create({
        hosts: [{ hostId: 'host-gst', address: ep.address, video: { port: ep.video.port, payloadType: ep.video.payloadType, codec: c.codec }, audio: { port: ep.audio.port } }],
        clipSeconds: 4, // shorter than the run: the loop point is crossed
        ...(c.h264Mode !== undefined ? { h264Mode: c.h264Mode } : {}),
      });
      cleanups.push(() => sfu.stop().catch(() => undefined));
      sfu.start();
      await sleep(6000);
      await sfu.stop();
      await sleep(600); // let the jitter buffers drain
      await rx.stop();
      const sent = sfu.stats()['host-gst']!;
      assert.equal(sent.video.skipped, 0, 'every NAL unit fitted the chosen packetization mode');
      assert.ok(statSync(out).size > 10_000, rx.output());

      const disc = spawnSync('gst-discoverer-1.0', [out], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(disc.status, 0, disc.stdout + disc.stderr);
      assert.match(disc.stdout, c.discoverer);
      assert.match(disc.stdout, /Opus/);

      const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', out, '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(decode.status, 0, `decode errors: ${decode.stderr}`);
      assert.equal(decode.stderr.trim(), '', `decoder complained: ${decode.stderr}`);
      const v = ffprobeVideo(out);
      assert.equal(v.codec, c.ffCodec);
      assert.deepEqual([v.width, v.height], [640, 480]);
      // every frame sent arrived, give or take the ones still in flight at the ends
      assert.ok(v.frames >= sent.video.frames - 12 && v.frames <= sent.video.frames, `decoded ${v.frames} of ${sent.video.frames} frames`);

      const sync = await measureAvSync(out);
      assert.ok(sync.pairs.length >= 4, `flash/beep pairs: ${JSON.stringify(sync)}`);
      t.diagnostic(`frames sent ${sent.video.frames}, decoded ${v.frames}; audio − video per flash (ms): ${sync.offsetsMs.map((o) => o.toFixed(1)).join(' ')}`);
      for (const o of sync.offsetsMs) assert.ok(Math.abs(o) <= 15, `A/V offset ${o.toFixed(1)} ms (the sender is exact; allowed: 15 ms of scheduling): ${JSON.stringify(sync.pairs)}`);
    });
  }
});
