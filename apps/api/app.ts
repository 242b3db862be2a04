// Builds the Nest application from its dependencies; main.ts and the tests both use it.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { AppModule, type ApiDependencies } from './app.module';
import { NestPinoLogger } from './nest-logger';

export async function createApiApp(deps: ApiDependencies): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.register(deps), {
    logger: new NestPinoLogger(deps.logger.child({ component: 'nest' })),
    bodyParser: true,
  });
  return app;
}
