// The extended clips feature. Ports bound to their Temporal and Cloud Storage adapters from the
// clients the composition root provides; the snippet listing comes from the livestream feature.
import { Module } from '@nestjs/common';
import type { Storage } from '@google-cloud/storage';
import type { Connection } from '@temporalio/client';
import type { ApiConfig } from '../config';
import { LivestreamsModule } from '../livestreams/livestreams.module';
import { API_CONFIG, STORAGE, TEMPORAL_CONNECTION } from '../tokens';
import { ClipsController } from './clips.controller';
import { ClipStore, ClipsPort } from './clips.port';
import { ClipsService } from './clips.service';
import { GcsClipStore } from './gcs-clip-store.adapter';
import { TemporalClips } from './temporal-clips.adapter';

@Module({
  imports: [LivestreamsModule],
  controllers: [ClipsController],
  providers: [
    ClipsService,
    {
      provide: ClipsPort,
      inject: [TEMPORAL_CONNECTION, API_CONFIG],
      useFactory: (connection: Connection, config: ApiConfig) =>
        new TemporalClips({ connection, namespace: config.temporalNamespace, taskQueue: config.taskQueue, timeoutMs: config.backendTimeoutMs }),
    },
    { provide: ClipStore, inject: [STORAGE, API_CONFIG], useFactory: (storage: Storage, config: ApiConfig) => new GcsClipStore(storage, config.bucket) },
  ],
})
export class ClipsModule {}
