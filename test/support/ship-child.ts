// A shipper in its own process, so a test can SIGKILL it at an exact step (between upload and
// publish, or between publish and delete) the way a crashing worker would die.
// argv[2]: JSON {cloud: {projectId, storageEmulator, pubsubEmulator}, bucket, ref, crash?: {at: 'afterUpload'|'afterPublish', sequence}}
import { createPubSub, createStorage } from '../../apps/common/clients';
import { createLogger } from '../../apps/common/logger';
import { RecordingShipper, type RecordingRef } from '../../activities/ship/shipper';

interface ChildArgs {
  cloud: { projectId: string; storageEmulator: string; pubsubEmulator: { host: string; port: number } };
  bucket: string;
  ref: RecordingRef;
  crash?: { at: 'afterUpload' | 'afterPublish'; sequence: number };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as ChildArgs;
  const cloud = { ...args.cloud, storageEmulator: new URL(args.cloud.storageEmulator) };
  const die = (at: string) => (sequence: number) => {
    if (args.crash?.at === at && args.crash.sequence === sequence) {
      process.stdout.write(`CRASHING ${at} ${sequence}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
  const shipper = new RecordingShipper(args.ref, {
    storage: createStorage(cloud),
    pubsub: createPubSub(cloud),
    bucket: args.bucket,
    clock: Date.now,
    logger: createLogger('ship-child', 'info'),
    options: { rescanMs: 500, backoffInitialMs: 200, backoffMaxMs: 2000 },
    faults: { afterUpload: die('afterUpload'), afterPublish: die('afterPublish') },
  });
  const status = await shipper.run({ untilFinished: true });
  process.stdout.write(`DONE ${JSON.stringify(status)}\n`);
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`ship-child: ${(e as Error).stack}\n`);
  process.exit(1);
});
