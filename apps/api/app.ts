// Builds the Nest application from its dependencies; main.ts and the tests both use it. Here the
// cross-cutting pieces are put in order: request context (id, log, metrics) → JSON-only body
// parsing with a size limit → routing with the auth guard, the validation pipe and the one
// exception filter; and the OpenAPI document at /docs (JSON at /docs-json), built from the code.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AppModule, type ApiDependencies } from './app.module';
import { ApiExceptionFilter } from './common/exception.filter';
import { jsonBody, requestContext } from './common/http';
import { createValidationPipe } from './common/validation';
import { MetricsService } from './metrics/metrics.service';
import { NestPinoLogger } from './nest-logger';

export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Tapedeck API')
    .setDescription(
      'Server-side recording of WebRTC livestreams: start and steer recordings, read their status and shipped snippets. ' +
        'Bearer tokens per role (livestream-service, reviewer, moderation); /healthz, /metrics and /docs need none. ' +
        'Every error body is {error: {code, message, details?}}.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}

export async function createApiApp(deps: ApiDependencies): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(deps), {
    logger: new NestPinoLogger(deps.logger.child({ component: 'nest' })),
    // Parsed by jsonBody below, which answers bad bodies in the API's error shape.
    bodyParser: false,
  });
  app.disable('x-powered-by');
  const log = deps.logger.child({ component: 'http' });
  app.use(requestContext(log, app.get(MetricsService)));
  app.use(jsonBody(deps.config.bodyLimitKb * 1024));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(log));
  SwaggerModule.setup('docs', app, () => openApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  return app;
}
