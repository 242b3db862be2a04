// Reports each dependency of the API (Temporal, Cloud Storage, Pub/Sub) as up or down.
import { Inject, Injectable } from '@nestjs/common';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { Connection } from '@temporalio/client';
import { checkAll, gcsProbe, pubsubProbe, temporalProbe, type HealthReport } from '../../common/health';
import { TOPICS } from '../../common/resources';
import type { ApiConfig } from '../config';
import { API_CONFIG, PUBSUB, STORAGE, TEMPORAL_CONNECTION } from '../tokens';

@Injectable()
export class HealthService {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(TEMPORAL_CONNECTION) private readonly temporal: Connection,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(PUBSUB) private readonly pubsub: PubSub,
  ) {}

  check(): Promise<HealthReport> {
    const t = this.config.healthTimeoutMs;
    return checkAll(
      {
        temporal: temporalProbe(this.temporal, t),
        gcs: gcsProbe(this.storage, this.config.bucket),
        pubsub: pubsubProbe(this.pubsub, TOPICS.snippets, t),
      },
      t,
    );
  }
}
