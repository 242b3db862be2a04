// Child processes of `npm run bench:media` that hold Tapedeck's own parts, each in its own
// process so that /proc measures each alone:
//   node dist/bench/media-runner.js supervisor   PipelineSupervisor (as in a media worker), which
//                                                forks the pipeline host; HostEvents go to the parent
//   node dist/bench/media-runner.js ingest       one HostIngest per host, fanning out to the
//                                                pipeline's input ports, as production does
// Both talk to bench/media.ts over the IPC channel with the messages below, and exit when the
// parent goes away, so a crashed bench leaves nothing running.
import type { RecordingConfig } from '../pipelines/config';
import { HostIngest, PortAllocator, parsePortRange, setSyncCommand, type HostEndpoints, type HostIngestStats } from '../pipelines/ingest';
import type { HostCommand, HostEvent, InputPorts } from '../pipelines/protocol';
import { PipelineSupervisor, type ExitInfo } from '../pipelines/supervisor';

export type RunnerRequest =
  | { type: 'start'; config: RecordingConfig }
  | { type: 'command'; command: HostCommand }
  | { type: 'stop'; killAfterMs: number }
  | { type: 'open'; hostIds: string[]; portRange: string }
  | { type: 'subscribe'; inputs: InputPorts[] }
  | { type: 'close' };

export type RunnerReply =
  | { type: 'ready'; pid: number; inputs: InputPorts[] }
  | { type: 'event'; event: HostEvent }
  | { type: 'exit'; info: ExitInfo }
  | { type: 'opened'; endpoints: HostEndpoints[] }
  | { type: 'sync'; command: HostCommand }
  | { type: 'closed'; stats: HostIngestStats[] }
  | { type: 'failed'; message: string };

const reply = (m: RunnerReply) => process.send?.(m);

function supervisorRole(): void {
  let sup: PipelineSupervisor | null = null;
  process.on('message', (m: RunnerRequest) => {
    if (m.type === 'start') {
      sup = new PipelineSupervisor({ stdio: 'inherit' });
      sup.on('event', (event) => event.type !== 'pong' && reply({ type: 'event', event }));
      sup.start(m.config).then(
        (r) => reply({ type: 'ready', pid: r.pid, inputs: r.inputs }),
        (e: Error) => reply({ type: 'failed', message: e.message }),
      );
    } else if (m.type === 'command') {
      sup?.send(m.command);
    } else if (m.type === 'stop') {
      if (!sup) return void process.exit(0);
      void sup.stop('bench done', m.killAfterMs).then((info) => {
        reply({ type: 'exit', info });
        process.disconnect();
      });
    }
  });
  // The bench is gone: stop the recording (EOS) rather than leave a pipeline host running.
  process.on('disconnect', () => {
    if (sup?.running) void sup.stop('bench gone', 10_000).then(() => process.exit(0));
    else process.exit(0);
  });
}

function ingestRole(): void {
  const ingests: HostIngest[] = [];
  process.on('message', (m: RunnerRequest) => {
    void (async () => {
      if (m.type === 'open') {
        const allocator = new PortAllocator(parsePortRange(m.portRange));
        try {
          for (const hostId of m.hostIds) {
            const ingest = await HostIngest.open({ livestreamId: 'bench', hostId, address: '127.0.0.1', allocator });
            // Lip sync from the mock SFU's sender reports reaches the pipeline as in production.
            ingest.on('event', (e) => e.type === 'sync' && reply({ type: 'sync', command: setSyncCommand(e) }));
            ingests.push(ingest);
          }
          reply({ type: 'opened', endpoints: ingests.map((g) => g.describe()) });
        } catch (e) {
          reply({ type: 'failed', message: (e as Error).message });
        }
      } else if (m.type === 'subscribe') {
        for (const input of m.inputs) {
          const ingest = ingests.find((g) => g.hostId === input.hostId);
          if (!ingest) continue;
          ingest.subscribe('bench-recording', { ...(input.video ? { video: input.video } : {}), ...(input.audio ? { audio: input.audio } : {}) });
        }
      } else if (m.type === 'close') {
        const stats = ingests.map((g) => g.stats());
        await Promise.all(ingests.map((g) => g.close()));
        reply({ type: 'closed', stats });
        process.disconnect();
      }
    })();
  });
  process.on('disconnect', () => void Promise.all(ingests.map((g) => g.close())).then(() => process.exit(0)));
}

const role = process.argv[2];
if (role === 'supervisor') supervisorRole();
else if (role === 'ingest') ingestRole();
else {
  process.stderr.write('usage: media-runner.js supervisor|ingest (forked by bench/media.ts)\n');
  process.exit(64);
}
