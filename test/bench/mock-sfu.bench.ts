// `npm run bench:mock-sfu [-- HOSTS SECONDS]`: what sending N hosts of 640x480 30 fps VP8 + Opus in
// real time costs the mock SFU (its own process), and what ingesting them costs (HostIngest per
// host in this process, each forwarding to one subscriber socket, as for a composite). Not a test:
// run it on a quiet machine; numbers from a shared one are only indicative.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { HostIngest, PortAllocator, parsePortRange } from '../../pipelines/ingest';
import { PROJECT_ROOT } from '../../infra/stack/tools';

async function main(): Promise<void> {
  const hosts = Number(process.argv[2] ?? 25);
  const seconds = Number(process.argv[3] ?? 20);
  const allocator = new PortAllocator(parsePortRange(process.argv[4] ?? '42000-42999'));
  const sink = createSocket('udp4');
  let sunk = 0;
  sink.on('message', () => sunk++);
  await new Promise<void>((r) => sink.bind({ address: '127.0.0.1', port: 0 }, r));
  sink.setRecvBufferSize(8 * 1024 * 1024);
  const ingests: HostIngest[] = [];
  for (let i = 0; i < hosts; i++) {
    const ingest = await HostIngest.open({ livestreamId: 'bench', hostId: `host-${i + 1}`, address: '127.0.0.1', allocator });
    ingest.subscribe('composite', { video: { rtpPort: sink.address().port }, audio: { rtpPort: sink.address().port } });
    ingests.push(ingest);
  }
  const target = ingests.flatMap((g) => [`127.0.0.1:${g.describe().video.port}`, `127.0.0.1:${g.describe().audio.port}`]).join(',');
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'apps', 'mock-sfu', 'main.js'), '--target', target, '--duration', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (out.includes('"event":"sending"')) {
        clearInterval(poll);
        cpu0 = process.cpuUsage();
        t0 = performance.now();
        resolve();
      }
    }, 20);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  const stopped = JSON.parse(out.trim().split('\n').pop()!);
  const totals = ingests.map((g) => g.stats()).reduce(
    (t, s) => ({ packets: t.packets + s.video.packets + s.audio.packets, lost: t.lost + s.video.lost + s.audio.lost, bytes: t.bytes + s.video.bytes + s.audio.bytes }),
    { packets: 0, lost: 0, bytes: 0 },
  );
  await Promise.all(ingests.map((g) => g.close()));
  sink.close();
  const ingestCpu = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify(
      {
        hosts,
        seconds,
        exitCode: code,
        mockSfu: stopped.usage,
        ingestPlusSink: { cpuSeconds: Number(ingestCpu.toFixed(3)), cpuPercentOfOneCore: Number(((ingestCpu / wall) * 100).toFixed(1)), maxRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)) },
        packetsPerSecond: Math.round(totals.packets / wall),
        mbitPerSecond: Number(((totals.bytes * 8) / wall / 1e6).toFixed(2)),
        ingestLost: totals.lost,
        forwardedReceived: sunk,
        sendErrors: stopped.sendErrors,
      },
      null,
      2,
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
