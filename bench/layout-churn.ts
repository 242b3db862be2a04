// bench:layout — the composite's pipeline host under layout changes: peak and settled memory and
// thread count while the layout flips between a spotlight and the grid (every flip gives both
// hosts' tiles a new size: new compositor pad sizes and camera tile caps), beside the same
// recording left alone for the same time in the same run. It found the leak of placeholders drawn
// once per tile size (a new textoverlay each time; withdrawn, see the README), and keeps watch on
// layout changes' memory.
//
//   npm run bench:layout -- --changes 120 --interval-ms 500
import { parseArgs } from 'node:util';
import type { Layout } from '../pipelines/config';
import { compositeConfig, hostMedia, recorder, sleep, tempSpool } from '../test/support/recording';
import { sendHost } from '../test/support/rtp-sender';
import { peakRssMb, procStatus } from './media-proc';

interface Sample {
  threads: number;
  rssMb: number;
}

function sample(pid: number): Sample {
  return { threads: procStatus(pid, 'Threads') ?? NaN, rssMb: (procStatus(pid, 'VmRSS') ?? NaN) / 1024 };
}

interface Run {
  label: string;
  before: Sample;
  peak: Sample;
  settled: Sample;
  clean: boolean;
  problems: number;
}

async function run(label: string, changes: number, intervalMs: number, steps: number): Promise<Run> {
  const spool = tempSpool(`bench-layout-${label}`);
  const { sup, events } = recorder();
  try {
    const ready = await sup.start(compositeConfig(spool.dir, [hostMedia('alice', 'VP8', { camera: false }), hostMedia('bob', 'VP8', { camera: false })], { snippetSeconds: 3 }));
    const senders = ready.inputs.map((i) => sendHost({ videoPort: i.video!.rtpPort, audioPort: i.audio!.rtpPort, videoCodec: 'VP8' }));
    try {
      await sleep(4000);
      const before = sample(ready.pid);
      let peakThreads = before.threads;
      const layouts: Layout[] = [{ kind: 'spotlight', spotlightHostId: 'alice' }, { kind: 'grid' }];
      for (let i = 0; i < steps; i++) {
        if (i < changes) sup.send({ type: 'set-layout', layout: layouts[i % 2]! });
        await sleep(intervalMs);
        peakThreads = Math.max(peakThreads, sample(ready.pid).threads);
      }
      await sleep(3000);
      const settled = sample(ready.pid);
      const peak = { threads: peakThreads, rssMb: peakRssMb(ready.pid) ?? NaN };
      const exit = await sup.stop('bench done', 20_000);
      const problems = events.filter((e) => e.type === 'error' || e.type === 'warning').length;
      return { label, before, peak, settled, clean: exit.clean, problems };
    } finally {
      for (const s of senders) await s.stop();
    }
  } finally {
    sup.kill();
    spool.cleanup();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { changes: { type: 'string', default: '120' }, 'interval-ms': { type: 'string', default: '500' } } });
  const changes = Number(values.changes);
  const intervalMs = Number(values['interval-ms']);
  if (!(changes >= 1 && changes <= 10_000)) throw new Error(`--changes must be 1..10000, got "${values.changes}"`);
  if (!(intervalMs >= 20 && intervalMs <= 10_000)) throw new Error(`--interval-ms must be 20..10000, got "${values['interval-ms']}"`);
  process.stdout.write(`bench:layout: a 2-host composite, ${changes} layout changes ${intervalMs} ms apart, beside the same time with none\n`);
  const runs = [await run('steady', 0, intervalMs, changes), await run('changes', changes, intervalMs, changes)];
  const mb = (n: number) => n.toFixed(1).padStart(7);
  process.stdout.write('run       RSS before  peak    settled  threads before/peak/settled  clean  errors+warnings\n');
  for (const r of runs) {
    process.stdout.write(
      `${r.label.padEnd(9)} ${mb(r.before.rssMb)}  ${mb(r.peak.rssMb)} ${mb(r.settled.rssMb)}   ${`${r.before.threads}/${r.peak.threads}/${r.settled.threads}`.padEnd(27)}  ${String(r.clean).padEnd(5)}  ${r.problems}\n`,
    );
  }
  const [steady, churn] = runs as [Run, Run];
  const growth = churn.settled.rssMb - churn.before.rssMb - (steady.settled.rssMb - steady.before.rssMb);
  // Compare runs with different --changes: growth that does not scale with the count is the
  // allocator keeping freed memory, growth that does is a leak.
  process.stdout.write(`settled growth beyond the steady run after ${changes} changes: ${growth.toFixed(1)} MB\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
