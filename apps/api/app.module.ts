// Root module. External clients are built in main.ts (the composition root) and provided
// globally, so feature modules inject ports and tests can hand in their own.
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { Connection } from '@temporalio/client';
import type { Logger } from '../common/logger';
import type { ApiConfig } from './config';
import { BearerAuthGuard } from './common/auth';
import { ClipsModule } from './clips/clips.module';
import { HealthModule } from './health/health.module';
import { LivestreamsModule } from './livestreams/livestreams.module';
import { MetricsModule } from './metrics/metrics.module';
import { ReviewModule } from './review/review.module';
import { API_CONFIG, LOGGER, PUBSUB, STORAGE, TEMPORAL_CONNECTION } from './tokens';

export interface ApiDependencies {
  config: ApiConfig;
  logger: Logger;
  temporal: Connection;
  storage: Storage;
  pubsub: PubSub;
}

@Global()
@Module({})
class CoreModule {
  static register(deps: ApiDependencies): DynamicModule {
    const providers = [
      { provide: API_CONFIG, useValue: deps.config },
      { provide: LOGGER, useValue: deps.logger },
      { provide: TEMPORAL_CONNECTION, useValue: deps.temporal },
      { provide: STORAGE, useValue: deps.storage },
      { provide: PUBSUB, useValue: deps.pubsub },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}

@Module({})
export class AppModule {
  static register(deps: ApiDependencies): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.register(deps), MetricsModule, HealthModule, LivestreamsModule, ClipsModule, ReviewModule],
      // Every route passes the bearer-token guard; routes open to all say so with @Public().
      providers: [{ provide: APP_GUARD, useClass: BearerAuthGuard }],
    };
  }
}
