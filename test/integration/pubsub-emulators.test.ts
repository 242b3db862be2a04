// Both Pub/Sub emulators the stack can run (the Google Cloud CLI's and the pstest fallback) get
// the bucket, topics and subscriptions, and carry an ordered message end to end.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPubSub, createStorage } from '../../apps/common/clients';
import { SUBSCRIPTIONS, TOPICS } from '../../apps/common/resources';
import { LocalStack } from '../../infra/stack/stack';
import { gcloudPubsubEmulator } from '../../infra/stack/tools';
import { provision } from '../../infra/stack/provision';
import { testEnv } from '../support/env';
import { freeStackPorts } from '../support/ports';

for (const kind of ['pstest', 'gcloud'] as const) {
  const unavailable = kind === 'gcloud' && !gcloudPubsubEmulator(testEnv.PATH) ? "the Google Cloud CLI's emulator is not installed here" : false;
  describe(`${kind} Pub/Sub emulator with the GCS emulator`, { skip: unavailable }, () => {
    it('is provisioned idempotently and delivers ordered messages', { timeout: 120_000 }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), `tapedeck-${kind}-`));
      const ports = await freeStackPorts();
      const stack = new LocalStack({
        env: testEnv,
        dataDir,
        ports,
        projectId: 'tapedeck-test',
        bucket: 'tapedeck-test',
        pubsubEmulator: kind,
        include: ['pubsub', 'gcs'],
        reuse: false,
        startupTimeoutMs: 60_000,
      });
      const cloud = {
        projectId: 'tapedeck-test',
        storageEmulator: new URL(`http://127.0.0.1:${ports.gcs}`),
        pubsubEmulator: { host: '127.0.0.1', port: ports.pubsub },
      };
      const pubsub = createPubSub(cloud);
      try {
        await stack.start();
        // A second provisioning finds everything in place.
        const again = await provision(createStorage(cloud), pubsub, 'tapedeck-test');
        assert.equal(again.bucket, 'existed');
        assert.ok(Object.values(again.topics).every((s) => s === 'existed'));
        assert.ok(Object.values(again.subscriptions).every((s) => s === 'existed'));

        const [subs] = await pubsub.getSubscriptions();
        const names = subs.map((s) => s.name.split('/').pop());
        for (const s of SUBSCRIPTIONS) assert.ok(names.includes(s.name), `subscription ${s.name}`);
        const [meta] = await pubsub.subscription('recording-snippets-moderation').getMetadata();
        assert.equal(meta.enableMessageOrdering, true);
        assert.match(meta.deadLetterPolicy?.deadLetterTopic ?? '', /topics\/tapedeck-dead-letter$/);

        const topic = pubsub.topic(TOPICS.snippets, { messageOrdering: true });
        for (let i = 0; i < 5; i++) {
          await topic.publishMessage({ json: { sequence: i }, orderingKey: 'rec-1', attributes: { snippetId: `s-${i}` } });
        }
        const received: number[] = [];
        const sub = pubsub.subscription('recording-snippets-moderation');
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`received only ${received.join(',')}`)), 30_000);
          sub.on('message', (m) => {
            received.push(JSON.parse(m.data.toString()).sequence);
            assert.equal(m.attributes.snippetId, `s-${received.at(-1)}`);
            m.ack();
            if (received.length === 5) {
              clearTimeout(timer);
              resolve();
            }
          });
          sub.on('error', reject);
        });
        await sub.close();
        assert.deepEqual(received, [0, 1, 2, 3, 4]);
      } finally {
        await pubsub.close();
        await stack.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
