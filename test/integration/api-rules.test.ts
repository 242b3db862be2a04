// Every validation and auth rule of the HTTP API, through HTTP against the real app on a real
// Temporal dev server: roles per route, 401/403, tokens never logged, ids (path traversal
// included) and times validated with the field named, unknown fields refused, JSON-only bodies
// with a size limit, one error shape; request ids and /metrics; and a Temporal that does not
// answer giving 503/504, never a bare 500.
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createApiApp } from '../../apps/api/app';
import { loadApiConfig } from '../../apps/api/config';
import { createStorage, createPubSub, createTemporalConnection } from '../../apps/common/clients';
import { freePort } from '../../infra/stack/net';
import { call, startApiUnderTest, TOKENS, TOKENS_ENV, type ApiUnderTest } from '../support/api';

const ROLE_TOKENS = { 'livestream-service': TOKENS.service, reviewer: TOKENS.reviewer, moderation: TOKENS.moderation } as const;
type Role = keyof typeof ROLE_TOKENS;
const ALL: Role[] = ['livestream-service', 'reviewer', 'moderation'];

// Each route with a well-formed request about a livestream that does not exist: a caller that is
// allowed gets past auth and validation (404), anyone else is stopped at auth.
const ROUTES: Array<{ method: string; path: string; json?: unknown; roles: Role[] }> = [
  { method: 'POST', path: '/v1/livestreams', json: { livestreamId: 'x', composite: { layout: 'spotlight' } }, roles: ['livestream-service'] },
  { method: 'GET', path: '/v1/livestreams/no-such', roles: ALL },
  { method: 'DELETE', path: '/v1/livestreams/no-such', roles: ['livestream-service'] },
  { method: 'POST', path: '/v1/livestreams/no-such/hosts', json: { hostId: 'h1' }, roles: ['livestream-service'] },
  { method: 'DELETE', path: '/v1/livestreams/no-such/hosts/h1', roles: ['livestream-service'] },
  { method: 'PUT', path: '/v1/livestreams/no-such/hosts/h1/camera', json: { on: true }, roles: ['livestream-service'] },
  { method: 'PUT', path: '/v1/livestreams/no-such/hosts/h1/microphone', json: { on: false }, roles: ['livestream-service'] },
  { method: 'PUT', path: '/v1/livestreams/no-such/layout', json: { layout: 'grid' }, roles: ['livestream-service'] },
  { method: 'PUT', path: '/v1/livestreams/no-such/outputs', json: { rtmp: ['rtmp://127.0.0.1/live/key'] }, roles: ['livestream-service'] },
  { method: 'GET', path: '/v1/livestreams/no-such/snippets', roles: ['reviewer'] },
  { method: 'POST', path: '/v1/clips', json: { livestreamId: 'no-such', recording: 'composite', start: '2026-01-31T12:00:00Z', end: '2026-01-31T12:01:00Z' }, roles: ['reviewer', 'moderation'] },
  { method: 'GET', path: '/v1/clips/clip-000000000000000000000000', roles: ['reviewer', 'moderation'] },
];

describe('API rules: auth, validation, errors, request ids, metrics', () => {
  let api: ApiUnderTest;
  const svc = (method: string, path: string, json?: unknown) => call(api.url, method, path, { token: TOKENS.service, ...(json !== undefined ? { json } : {}) });
  const assertError = (r: { status: number; body: any }, status: number, code: string, field?: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    assert.equal(typeof r.body.error.message, 'string');
    assert.ok(!/\n\s+at /.test(JSON.stringify(r.body)), 'no stack trace in a response');
    if (field) {
      const fields = (r.body.error.details?.fields ?? []).map((f: any) => f.field);
      assert.ok(fields.includes(field), `${field} named in ${JSON.stringify(r.body.error)}`);
      assert.ok(r.body.error.message.includes(field), `message names ${field}: ${r.body.error.message}`);
    }
  };

  before(async () => {
    api = await startApiUnderTest({ controlTaskQueue: 'tapedeck-control-rules' });
  });
  after(async () => {
    await api?.close();
  });

  it('lets each route be called by the roles of the contract only', { timeout: 60_000 }, async () => {
    for (const r of ROUTES) {
      const none = await call(api.url, r.method, r.path, r.json !== undefined ? { json: r.json } : {});
      assertError(none, 401, 'unauthenticated');
      for (const role of ALL) {
        const res = await call(api.url, r.method, r.path, { token: ROLE_TOKENS[role], ...(r.json !== undefined ? { json: r.json } : {}) });
        if (r.roles.includes(role)) {
          assert.ok(res.status !== 401 && res.status !== 403, `${role} may call ${r.method} ${r.path}: ${res.status} ${JSON.stringify(res.body)}`);
          assert.ok([400, 404].includes(res.status), `${r.method} ${r.path} reached the service: ${res.status} ${JSON.stringify(res.body)}`);
        } else {
          assertError(res, 403, 'forbidden');
        }
      }
    }
  });

  it('refuses missing, unknown and malformed credentials with 401 and never logs a token', { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const config = loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS_ENV, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, TAPEDECK_API_BACKEND_TIMEOUT_MS: '2000' });
    const logger = pino({ level: 'trace', base: { name: 'capture' } }, sink);
    const temporal = createTemporalConnection(config.temporal);
    const cloud = { projectId: config.projectId, storageEmulator: new URL(`http://127.0.0.1:${await freePort()}`), pubsubEmulator: undefined };
    const app = await createApiApp({ config, logger, temporal, storage: createStorage(cloud, { retries: false }), pubsub: createPubSub({ ...cloud, pubsubEmulator: { host: '127.0.0.1', port: 9 } }) });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    try {
      const variants: Array<Record<string, string>> = [
        {},
        { authorization: `Bearer ${TOKENS.service}x` },
        { authorization: `Bearer ${TOKENS.service.slice(0, -1)}` },
        { authorization: `Basic ${Buffer.from(`u:${TOKENS.service}`).toString('base64')}` },
        { authorization: `bearer  ${TOKENS.service}` },
        { authorization: TOKENS.service },
        { authorization: 'Bearer ' },
      ];
      for (const headers of variants) {
        const r = await call(url, 'GET', '/v1/livestreams/ls-1', { headers });
        assertError(r, 401, 'unauthenticated');
      }
      assertError(await call(url, 'POST', '/v1/livestreams', { token: TOKENS.reviewer, json: { livestreamId: 'ls-1' } }), 403, 'forbidden');
      // A real caller whose request reaches an unreachable Temporal: a bounded 503/504, no 500.
      const down = await call(url, 'GET', '/v1/livestreams/ls-1', { token: TOKENS.moderation });
      assert.ok([503, 504].includes(down.status), `${down.status} ${JSON.stringify(down.body)}`);
      assert.match(down.body.error.code, /^temporal_(unavailable|timeout)$/);
    } finally {
      await app.close();
      await temporal.close().catch(() => undefined);
    }
    const log = lines.join('');
    assert.ok(log.includes('"status":401'), 'requests were logged');
    for (const t of Object.values(TOKENS)) {
      assert.ok(!log.includes(t), 'a token appears in the log');
      assert.ok(!log.includes(t.slice(0, -1)), 'a token prefix appears in the log');
    }
  });

  it('rejects bad ids, path traversal included, naming the field', { timeout: 30_000 }, async () => {
    const paths: Array<[string, string, string, unknown?]> = [
      ['GET', '/v1/livestreams/..%2F..%2Fetc%2Fpasswd', 'id'],
      ['GET', '/v1/livestreams/..%2Fother', 'id'],
      ['GET', '/v1/livestreams/ls%00x', 'id'],
      ['GET', '/v1/livestreams/ls.1', 'id'],
      ['GET', `/v1/livestreams/${'a'.repeat(65)}`, 'id'],
      ['DELETE', '/v1/livestreams/ls-1/hosts/..%2F..%2Fx', 'hostId'],
      ['PUT', '/v1/livestreams/ls-1/hosts/h%20one/camera', 'hostId', { on: true }],
      ['POST', '/v1/livestreams', 'livestreamId', { livestreamId: '../../etc' }],
      ['POST', '/v1/livestreams', 'livestreamId', { livestreamId: '' }],
      ['POST', '/v1/livestreams', 'livestreamId', { livestreamId: 42 }],
      ['POST', '/v1/livestreams', 'hosts[1].hostId', { livestreamId: 'ls-1', hosts: [{ hostId: 'ok' }, { hostId: 'a/b' }] }],
      ['POST', '/v1/livestreams', 'composite.spotlightHostId', { livestreamId: 'ls-1', composite: { layout: 'spotlight', spotlightHostId: '..' } }],
      ['POST', '/v1/livestreams/ls-1/hosts', 'hostId', { hostId: '..%2F' }],
      ['PUT', '/v1/livestreams/ls-1/layout', 'spotlightHostId', { layout: 'spotlight', spotlightHostId: 'x/../y' }],
    ];
    for (const [method, path, field, json] of paths) {
      const r = await svc(method, path, json);
      assertError(r, 400, 'invalid_request', field);
    }
    const clip = (method: string, path: string, json?: unknown) => call(api.url, method, path, { token: TOKENS.moderation, ...(json !== undefined ? { json } : {}) });
    const times = { start: '2026-01-31T12:00:00Z', end: '2026-01-31T12:01:00Z' };
    assertError(await clip('GET', '/v1/clips/..%2F..%2Fetc'), 400, 'invalid_request', 'clipId');
    assertError(await clip('GET', '/v1/clips/c%00x'), 400, 'invalid_request', 'clipId');
    assertError(await clip('POST', '/v1/clips', { livestreamId: '../../x', recording: 'composite', ...times }), 400, 'invalid_request', 'livestreamId');
    assertError(await clip('POST', '/v1/clips', { livestreamId: 'ls-1', recording: { hostId: 'a/../b' }, ...times }), 400, 'invalid_request', 'recording');
    assertError(await clip('POST', '/v1/clips', { livestreamId: 'ls-1', recording: { hostId: '' }, ...times }), 400, 'invalid_request', 'recording');
    const snip = (q: string) => call(api.url, 'GET', `/v1/livestreams/ls-1/snippets${q}`, { token: TOKENS.reviewer });
    assertError(await snip('?recording=host-..%2F..%2Fx'), 400, 'invalid_request', 'recording');
    assertError(await snip('?recording=clips'), 400, 'invalid_request', 'recording');
    // Dot segments are resolved by the client or the router before any handler sees them.
    assertError(await snip('/../x'), 404, 'route_not_found');
    assertError(await svc('GET', '/v1/livestreams/%2E%2E'), 404, 'route_not_found');
    assertError(await call(api.url, 'GET', '/v1/livestreams/a%2F..%2Fb/snippets', { token: TOKENS.reviewer }), 400, 'invalid_request', 'id');
    const fields = (await snip('?recording=host-..')).body.error.details.fields;
    assert.deepEqual(fields.map((f: any) => f.in), ['query']);
  });

  it('accepts only ISO 8601 times with a zone, in order', { timeout: 30_000 }, async () => {
    const snip = (q: string) => call(api.url, 'GET', `/v1/livestreams/ls-1/snippets${q}`, { token: TOKENS.reviewer });
    for (const [q, field] of [
      ['?from=2026-01-31T12:00:00', 'from'],
      ['?from=2026-01-31', 'from'],
      ['?to=yesterday', 'to'],
      ['?to=1769860800', 'to'],
      ['?from=2026-13-31T12:00:00Z', 'from'],
      ['?from=2026-01-31T12:00:00Z&to=2026-01-31T11:00:00Z', 'to'],
      ['?from=2026-01-31T12:00:00Z&from=2026-01-31T13:00:00Z', 'from'],
    ] as const) {
      assertError(await snip(q), 400, 'invalid_request', field);
    }
    // Well-formed times get past validation to the lookup (no such livestream here).
    assertError(await snip('?from=2026-01-31T12:00:00.250%2B02:00&to=2026-01-31T13:00:00Z'), 404, 'livestream_not_found');
    const clip = (start: unknown, end: unknown) => call(api.url, 'POST', '/v1/clips', { token: TOKENS.reviewer, json: { livestreamId: 'ls-1', recording: 'composite', start, end } });
    for (const [start, end, field] of [
      ['2026-01-31T12:00:00', '2026-01-31T12:01:00Z', 'start'],
      ['2026-01-31T12:00:00Z', 'tomorrow', 'end'],
      ['2026-01-31T12:00:00Z', 1769860800, 'end'],
      ['2026-01-31T12:00:00Z', '2026-01-31T11:59:59Z', 'end'],
      ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00Z', 'end'],
      ['2026-01-31T12:00:00Z', '2026-01-31T14:00:00.001Z', 'end'],
    ] as const) {
      assertError(await clip(start, end), 400, 'invalid_request', field);
    }
    // A zone other than Z is honoured: this range is exactly the 2-hour maximum.
    assertError(await clip('2026-01-31T12:00:00+02:00', '2026-01-31T12:00:00Z'), 404, 'livestream_not_found');
  });

  it('rejects unknown fields and wrong types anywhere in a body', { timeout: 30_000 }, async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', extra: 1 }, 'extra'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'h1', role: 'admin' }] }, 'hosts[0].role'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', composite: { layout: 'grid', bitrate: 9 } }, 'composite.bitrate'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'h1', video: { codec: 'VP8', payloadType: 96, fec: true } }] }, 'hosts[0].video.fec'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'h1', video: { codec: 'AV1', payloadType: 96 } }] }, 'hosts[0].video.codec'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'h1', video: { codec: 'VP8', payloadType: 200 } }] }, 'hosts[0].video.payloadType'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'h1', video: { codec: 'VP8', payloadType: 111 } }] }, 'hosts[0]'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'h1', video: { codec: 'VP8', payloadType: 72 } }] }, 'hosts[0]'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'h1' }, { hostId: 'h1' }] }, 'hosts[1].hostId'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: Array.from({ length: 33 }, (_, i) => ({ hostId: `h${i}` })) }, 'hosts'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: { hostId: 'h1' } }, 'hosts'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', individual: 'yes' }, 'individual'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', composite: { rtmp: ['http://example.com/x'] } }, 'composite.rtmp'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', composite: { layout: 'mosaic' } }, 'composite.layout'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', composite: { layout: 'spotlight' } }, 'composite.spotlightHostId'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', hosts: [{ hostId: 'a' }], composite: { layout: 'spotlight', spotlightHostId: 'b' } }, 'composite.spotlightHostId'],
      ['POST', '/v1/livestreams', { hosts: [] }, 'livestreamId'],
      ['POST', '/v1/livestreams/ls-1/hosts', { hostId: 'h1', audio: { codec: 'OPUS', payloadType: 96 } }, 'video.payloadType'],
      ['POST', '/v1/livestreams/ls-1/hosts', { hostId: 'h1', camera: 'on' }, 'camera'],
      ['PUT', '/v1/livestreams/ls-1/hosts/h1/camera', { on: 'true' }, 'on'],
      ['PUT', '/v1/livestreams/ls-1/hosts/h1/camera', { on: true, at: 'now' }, 'at'],
      ['PUT', '/v1/livestreams/ls-1/hosts/h1/microphone', {}, 'on'],
      ['PUT', '/v1/livestreams/ls-1/layout', { layout: 'grid', spotlightHostId: 'h1' }, 'spotlightHostId'],
      ['PUT', '/v1/livestreams/ls-1/layout', { layout: { kind: 'grid' } }, 'layout'],
      ['POST', '/v1/livestreams', { livestreamId: 'ls-1', composite: { rtmp: ['rtmp://live.example.com/app'] } }, 'composite.rtmp[0]'],
      ['PUT', '/v1/livestreams/ls-1/outputs', {}, 'rtmp'],
      ['PUT', '/v1/livestreams/ls-1/outputs', { rtmp: 'rtmp://h/app/key' }, 'rtmp'],
      ['PUT', '/v1/livestreams/ls-1/outputs', { rtmp: ['https://h/app/key'] }, 'rtmp'],
      ['PUT', '/v1/livestreams/ls-1/outputs', { rtmp: Array.from({ length: 6 }, (_, i) => `rtmp://h/app/k${i}`) }, 'rtmp'],
      ['PUT', '/v1/livestreams/ls-1/outputs', { rtmp: ['rtmp://h/app/k', 'rtmp://h/app'] }, 'rtmp[1]'],
      ['PUT', '/v1/livestreams/ls-1/outputs', { rtmp: [], hls: true }, 'hls'],
    ];
    for (const [method, path, json, field] of cases) {
      assertError(await svc(method, path, json), 400, 'invalid_request', field);
    }
    const clipBody = { livestreamId: 'ls-1', recording: 'composite', start: '2026-01-31T12:00:00Z', end: '2026-01-31T12:01:00Z' };
    for (const [json, field] of [
      [{ ...clipBody, extra: 1 }, 'extra'],
      [{ ...clipBody, recording: { hostId: 'h1', role: 'x' } }, 'recording'],
      [{ ...clipBody, recording: 'host-h1' }, 'recording'],
      [{ ...clipBody, recording: ['composite'] }, 'recording'],
      [{ ...clipBody, precise: 'true' }, 'precise'],
      [{ ...clipBody, includeAudioOnly: 1 }, 'includeAudioOnly'],
      [{ ...clipBody, reason: 'x'.repeat(501) }, 'reason'],
      [{ ...clipBody, requestedBy: 7 }, 'requestedBy'],
      [{ recording: 'composite', start: clipBody.start, end: clipBody.end }, 'livestreamId'],
      [{ livestreamId: 'ls-1', start: clipBody.start, end: clipBody.end }, 'recording'],
    ] as const) {
      assertError(await call(api.url, 'POST', '/v1/clips', { token: TOKENS.moderation, json }), 400, 'invalid_request', field);
    }
    assertError(await call(api.url, 'GET', '/v1/livestreams/ls-1/snippets?recording=composite&limit=5', { token: TOKENS.reviewer }), 400, 'invalid_request', 'limit');
    assertError(await svc('DELETE', '/v1/livestreams/ls-1?force=true'), 400, 'invalid_request', 'force');
  });

  it('takes JSON objects only, up to the size limit', { timeout: 30_000 }, async () => {
    const raw = (body: string, contentType?: string, path = '/v1/livestreams', method = 'POST') =>
      call(api.url, method, path, { token: TOKENS.service, raw: body, ...(contentType ? { contentType } : {}) });
    const ok = JSON.stringify({ livestreamId: 'ls-1', composite: { layout: 'spotlight' } });
    assertError(await raw(ok, 'text/plain'), 415, 'unsupported_media_type');
    assertError(await raw(ok), 415, 'unsupported_media_type');
    assertError(await raw('livestreamId=ls-1', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    assertError(await raw(ok, 'application/xml'), 415, 'unsupported_media_type');
    assertError(await raw('{"on": true}', 'text/plain', '/v1/livestreams/ls-1/hosts/h1/camera', 'PUT'), 415, 'unsupported_media_type');
    assertError(await raw(ok, 'application/json; charset=latin1'), 415, 'unsupported_media_type');
    // The same body as JSON gets past the media type (to validation of its content).
    assertError(await raw(ok, 'application/json; charset=utf-8'), 400, 'invalid_request', 'composite.spotlightHostId');
    assertError(await raw('{"livestreamId": "ls-1",', 'application/json'), 400, 'invalid_json');
    assertError(await raw('[{"livestreamId": "ls-1"}]', 'application/json'), 400, 'invalid_request');
    assertError(await raw('"ls-1"', 'application/json'), 400, 'invalid_json');
    assertError(await raw('', 'application/json'), 400, 'invalid_request');

    const big = JSON.stringify({ livestreamId: 'ls-1', hosts: [{ hostId: 'h1', displayName: 'x'.repeat(70 * 1024) }] });
    const tooBig = await raw(big, 'application/json');
    assertError(tooBig, 413, 'payload_too_large');
    assert.equal(tooBig.body.error.details.limitBytes, 64 * 1024);
    // Just under the limit is read (and then refused for the name's length, a 400).
    const under = JSON.stringify({ livestreamId: 'ls-1', hosts: [{ hostId: 'h1', displayName: 'x'.repeat(60 * 1024) }] });
    assertError(await raw(under, 'application/json'), 400, 'invalid_request', 'hosts[0].displayName');
  });

  it('answers unknown routes and methods in the error shape', { timeout: 30_000 }, async () => {
    assertError(await svc('GET', '/v1/nothing'), 404, 'route_not_found');
    assertError(await svc('PATCH', '/v1/livestreams/ls-1', {}), 404, 'route_not_found');
    assertError(await svc('DELETE', '/v1/clips/clip-1', {}), 404, 'route_not_found');
    assertError(await svc('GET', '/v1/clips'), 404, 'route_not_found');
  });

  it('carries a request id in and out, and counts requests by route pattern in /metrics', { timeout: 30_000 }, async () => {
    const given = await call(api.url, 'GET', '/v1/livestreams/ls-metrics', { token: TOKENS.reviewer, headers: { 'x-request-id': 'req-abc.123' } });
    assert.equal(given.headers.get('x-request-id'), 'req-abc.123');
    const bad = await call(api.url, 'GET', '/healthz', { headers: { 'x-request-id': 'two words' } });
    assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const fresh = await call(api.url, 'GET', '/v1/livestreams/ls-metrics');
    assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

    const m = await call(api.url, 'GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
    const text = String(m.body);
    assert.match(text, /^tapedeck_api_requests_total\{method="GET",route="\/v1\/livestreams\/:id",status="404"\} [1-9]\d*$/m);
    assert.match(text, /^tapedeck_api_requests_total\{method="GET",route="\/v1\/livestreams\/:id",status="401"\} [1-9]\d*$/m);
    assert.match(text, /^tapedeck_api_request_duration_seconds_bucket\{le="0\.5",method="GET",route="\/v1\/livestreams\/:id",status="404"\} [1-9]\d*$/m);
    assert.ok(!text.includes('ls-metrics'), 'no ids in metric labels');
    assert.match(text, /^tapedeck_api_process_cpu_seconds_total /m);
  });

  it('keeps /healthz, /metrics and /docs open', { timeout: 30_000 }, async () => {
    assert.equal((await call(api.url, 'GET', '/healthz')).status, 200);
    assert.equal((await call(api.url, 'GET', '/metrics')).status, 200);
    const docs = await call(api.url, 'GET', '/docs');
    assert.equal(docs.status, 200);
    assert.match(String(docs.body), /swagger-ui/i);
    assert.equal((await call(api.url, 'GET', '/docs-json')).status, 200);
  });
});
