// The OpenAPI document the API serves at /docs-json: valid OpenAPI 3, listing every route the
// app actually routes (read from the Express router, so a new route without documentation
// fails here), with each route's security and parameters as the code enforces them.
import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { INestApplication } from '@nestjs/common';
import { createApiApp } from '../../apps/api/app';
import { loadApiConfig } from '../../apps/api/config';
import { createPubSub, createStorage, createTemporalConnection } from '../../apps/common/clients';
import { createLogger } from '../../apps/common/logger';
import { freePort } from '../../infra/stack/net';
import { call, TOKENS_ENV } from '../support/api';

describe('OpenAPI document', () => {
  let app: INestApplication;
  let url: string;
  let doc: any;
  let close: () => Promise<void>;

  before(async () => {
    // Documentation needs no backend: Temporal and the emulators point at closed ports.
    const config = loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS_ENV, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    const cloud = { projectId: config.projectId, storageEmulator: new URL(`http://127.0.0.1:${await freePort()}`), pubsubEmulator: { host: '127.0.0.1', port: await freePort() } };
    const temporal = createTemporalConnection(config.temporal);
    const pubsub = createPubSub(cloud);
    app = await createApiApp({ config, logger: createLogger('openapi-test', 'warn'), temporal, storage: createStorage(cloud, { retries: false }), pubsub });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    close = async () => {
      await app.close();
      await pubsub.close().catch(() => undefined);
      await temporal.close().catch(() => undefined);
    };
    const r = await call(url, 'GET', '/docs-json');
    assert.equal(r.status, 200);
    doc = r.body;
  });
  after(async () => {
    await close?.();
  });

  it('validates as OpenAPI 3', { timeout: 30_000 }, async () => {
    assert.match(doc.openapi, /^3\./);
    await SwaggerParser.validate(structuredClone(doc));
  });

  it('lists every route the app serves, and nothing else', () => {
    const router = (app.getHttpAdapter().getInstance() as any).router;
    const served = new Set<string>();
    for (const layer of router.stack) {
      if (!layer.route) continue;
      const path = String(layer.route.path).replace(/:([A-Za-z]+)/g, '{$1}');
      if (path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-')) continue; // the documentation itself
      for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') served.add(`${method.toUpperCase()} ${path}`);
    }
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of Object.keys(item)) if (['get', 'post', 'put', 'delete', 'patch'].includes(method)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    assert.ok(served.size >= 13, `routes found in the router: ${[...served].join(', ')}`);
    assert.deepEqual([...documented].sort(), [...served].sort());
    for (const route of [
      'POST /v1/livestreams',
      'GET /v1/livestreams/{id}',
      'DELETE /v1/livestreams/{id}',
      'POST /v1/livestreams/{id}/hosts',
      'DELETE /v1/livestreams/{id}/hosts/{hostId}',
      'PUT /v1/livestreams/{id}/hosts/{hostId}/camera',
      'PUT /v1/livestreams/{id}/hosts/{hostId}/microphone',
      'PUT /v1/livestreams/{id}/layout',
      'PUT /v1/livestreams/{id}/outputs',
      'GET /v1/livestreams/{id}/snippets',
      'POST /v1/clips',
      'GET /v1/clips/{clipId}',
      'GET /healthz',
      'GET /metrics',
    ]) {
      assert.ok(documented.has(route), `${route} documented`);
    }
  });

  it('describes security, ids and error bodies as the code enforces them', () => {
    const op = (method: string, path: string) => doc.paths[path][method];
    assert.ok(doc.components.securitySchemes.bearer, 'bearer scheme');
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, o] of Object.entries<any>(item)) {
        // the reviewer page's static files hold no data; the page sends the token on its API calls
        const open = path === '/healthz' || path === '/metrics' || path === '/review' || path.startsWith('/review/');
        assert.equal(Boolean(o.security?.length), !open, `${method} ${path} security`);
        if (!open) {
          assert.ok(o.responses['401'] && o.responses['403'], `${method} ${path} documents 401 and 403`);
          assert.ok(o.responses['400'], `${method} ${path} documents 400`);
        }
      }
    }
    const idParam = op('get', '/v1/livestreams/{id}').parameters.find((p: any) => p.name === 'id' && p.in === 'path');
    assert.equal(idParam.schema.pattern, '^[A-Za-z0-9_-]{1,64}$');
    const snippetParams = op('get', '/v1/livestreams/{id}/snippets').parameters.map((p: any) => `${p.in}:${p.name}`).sort();
    assert.deepEqual(snippetParams, ['path:id', 'query:from', 'query:recording', 'query:to']);
    const start = doc.components.schemas.StartLivestreamDto;
    assert.deepEqual(start.required, ['livestreamId']);
    assert.equal(start.properties.livestreamId.pattern, '^[A-Za-z0-9_-]{1,64}$');
    assert.ok(op('post', '/v1/livestreams').responses['201'], 'start answers 201');
    const err = op('post', '/v1/livestreams').responses['400'].content['application/json'].schema.$ref;
    assert.equal(err, '#/components/schemas/ErrorDto');
    const clipParam = op('get', '/v1/clips/{clipId}').parameters.find((p: any) => p.name === 'clipId' && p.in === 'path');
    assert.equal(clipParam.schema.pattern, '^[A-Za-z0-9_-]{1,64}$');
    const clip = doc.components.schemas.RequestClipDto;
    assert.deepEqual([...clip.required].sort(), ['end', 'livestreamId', 'recording', 'start']);
    assert.equal(clip.properties.start.format, 'date-time');
    assert.deepEqual(clip.properties.recording.oneOf.map((o: any) => o.type), ['string', 'object']);
    assert.ok(op('post', '/v1/clips').responses['202'], 'a clip request answers 202');
    assert.ok(op('get', '/v1/clips/{clipId}').responses['404'], 'an unknown clip is a documented 404');
    assert.ok(doc.components.schemas.ClipStatusDto.properties.signedUrl, 'the status documents the signed URL');
  });

  it('is served as a page at /docs', async () => {
    const page = await call(url, 'GET', '/docs');
    assert.equal(page.status, 200);
    assert.match(String(page.body), /<title>/i);
  });
});
