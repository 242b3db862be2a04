// The livestream feature. The ports are bound to their Temporal and Cloud Storage adapters here,
// from the clients the composition root provides; tests reach the same adapters.
import { Module } from '@nestjs/common';
import type { Storage } from '@google-cloud/storage';
import type { Connection } from '@temporalio/client';
import type { ApiConfig } from '../config';
import { API_CONFIG, STORAGE, TEMPORAL_CONNECTION } from '../tokens';
import { GcsSnippetStore } from './gcs-snippet-store.adapter';
import { LivestreamsController } from './livestreams.controller';
import { LivestreamsPort, SnippetStore } from './livestreams.port';
import { LivestreamsService } from './livestreams.service';
import { TemporalLivestreams } from './temporal-livestreams.adapter';

@Module({
  controllers: [LivestreamsController],
  providers: [
    LivestreamsService,
    {
      provide: LivestreamsPort,
      inject: [TEMPORAL_CONNECTION, API_CONFIG],
      useFactory: (connection: Connection, config: ApiConfig) =>
        new TemporalLivestreams({ connection, namespace: config.temporalNamespace, taskQueue: config.taskQueue, timeoutMs: config.backendTimeoutMs }),
    },
    {
      provide: SnippetStore,
      inject: [STORAGE, API_CONFIG],
      useFactory: (storage: Storage, config: ApiConfig) => new GcsSnippetStore(storage, config.bucket, config.backendTimeoutMs),
    },
  ],
  // The bucket listing serves the clips feature too.
  exports: [SnippetStore],
})
export class LivestreamsModule {}
