// Creates the bucket, topics and subscriptions Tapedeck expects. Idempotent: anything that
// already exists is left as it is. Used by `npm start`, the tests, and against a real project.
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { SUBSCRIPTIONS, TOPICS } from '../../apps/common/resources';

const ALREADY_EXISTS = 6;

export interface ProvisionResult {
  bucket: 'created' | 'existed';
  topics: Record<string, 'created' | 'existed'>;
  subscriptions: Record<string, 'created' | 'existed'>;
}

export async function provision(storage: Storage, pubsub: PubSub, bucketName: string): Promise<ProvisionResult> {
  const result: ProvisionResult = { bucket: 'existed', topics: {}, subscriptions: {} };
  const bucket = storage.bucket(bucketName);
  const [exists] = await bucket.exists();
  if (!exists) {
    try {
      await storage.createBucket(bucketName);
      result.bucket = 'created';
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
    }
  }

  for (const topic of Object.values(TOPICS)) {
    try {
      await pubsub.createTopic(topic);
      result.topics[topic] = 'created';
    } catch (e) {
      if ((e as { code?: number }).code !== ALREADY_EXISTS) throw e;
      result.topics[topic] = 'existed';
    }
  }

  const projectId = pubsub.projectId;
  for (const sub of SUBSCRIPTIONS) {
    try {
      await pubsub.topic(sub.topic).createSubscription(sub.name, {
        enableMessageOrdering: sub.ordered ?? false,
        ackDeadlineSeconds: 60,
        ...(sub.deadLetterAfter
          ? { deadLetterPolicy: { deadLetterTopic: `projects/${projectId}/topics/${TOPICS.deadLetter}`, maxDeliveryAttempts: sub.deadLetterAfter } }
          : {}),
      });
      result.subscriptions[sub.name] = 'created';
    } catch (e) {
      if ((e as { code?: number }).code !== ALREADY_EXISTS) throw e;
      result.subscriptions[sub.name] = 'existed';
    }
  }
  return result;
}
