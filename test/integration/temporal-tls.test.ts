// Connecting to a Temporal cluster that needs TLS, with the options the processes build from
// TEMPORAL_TLS_* / TEMPORAL_API_KEY (apps/common/clients.ts). The dev server speaks plain gRPC
// only, so the test puts an mTLS-terminating proxy in front of it (Node's TLS server: client
// certificates from the test CA required, ALPN h2, bytes piped to the dev server): the project's
// worker and a client run a workflow through it; a client without a certificate, or with one
// from another CA, is refused. The API key is checked on the wire by an HTTP/2 server over TLS
// that records the request headers of the first call, for both the client's and the worker's
// (Rust core) connection.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorkers, type RunningWorkers } from '../../apps/worker/worker';
import { mediaTaskQueue } from '../../apps/worker/config';
import { loadApiConfig } from '../../apps/api/config';
import type { TemporalConnectOptions } from '../../apps/common/clients';
import { MediaCapacity } from '../../activities/capacity';
import { freePort } from '../../infra/stack/net';
import { resolveTool } from '../../infra/stack/tools';
import { testEnv } from '../support/env';

const SERVER_NAME = 'temporal.test';

/** A CA, a server certificate for SERVER_NAME, a client certificate, and a client from another CA. */
function makePki(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) => ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  const leaf = (name: string, caName: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  ca('test-ca');
  ca('other-ca');
  leaf('server', 'test-ca', `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\n`);
  leaf('worker', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const file = (n: string) => join(dir, n);
  return { file, read: (n: string) => readFileSync(file(n)) };
}

/** Connects and makes one call; rejects when the handshake or the call fails. */
async function callOnce(options: TemporalConnectOptions): Promise<void> {
  const c = await Connection.connect({ ...options, connectTimeout: 3000 });
  try {
    await c.workflowService.getSystemInfo({});
  } finally {
    await c.close();
  }
}

describe('Temporal over TLS: mTLS client certificates and an API key', () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let env: TestWorkflowEnvironment;
  let proxy: tls.Server;
  let proxyPort: number;
  let accepted = 0;
  let refused = 0;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    dir = mkdtempSync(join(tmpdir(), 'tapedeck-tls-'));
    pki = makePki(dir);
    const devPort = await freePort();
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: resolveTool('temporal', testEnv.PATH) }, ip: '127.0.0.1', port: devPort, ui: false },
    });
    proxy = tls.createServer(
      { key: pki.read('server.key'), cert: pki.read('server.crt'), ca: pki.read('test-ca.crt'), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
      (socket) => {
        accepted++;
        const upstream = netConnect(devPort, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        const close = () => {
          socket.destroy();
          upstream.destroy();
        };
        socket.on('error', close);
        upstream.on('error', close);
        socket.on('close', close);
        upstream.on('close', close);
      },
    );
    proxy.on('tlsClientError', () => refused++);
    proxyPort = await new Promise<number>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve((proxy.address() as { port: number }).port)));
  });

  after(async () => {
    proxy?.close();
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const configFor = (vars: Record<string, string>) =>
    loadApiConfig({ TAPEDECK_API_TOKENS: 'livestream-service:a-token-of-sixteen-chars-at-least', TEMPORAL_ADDRESS: `127.0.0.1:${proxyPort}`, ...vars });

  it('runs a workflow through the project worker and a client, both on mTLS', { timeout: 60_000 }, async () => {
    const { temporal } = configFor({
      TEMPORAL_TLS_CERT: pki.file('worker.crt'),
      TEMPORAL_TLS_KEY: pki.file('worker.key'),
      TEMPORAL_TLS_CA: pki.file('test-ca.crt'),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    });
    assert.ok(temporal.tls && temporal.tls.clientCertPair, 'the options carry the client certificate');
    const before = accepted;
    const nativeConnection = await NativeConnection.connect(temporal);
    const connection = await Connection.connect({ ...temporal, connectTimeout: 10_000 });
    const client = new Client({ connection, namespace: 'default' });
    let workers: RunningWorkers | undefined;
    let running: Promise<void> | undefined;
    try {
      workers = await createWorkers({
        connection: nativeConnection,
        namespace: 'default',
        roles: ['control'],
        controlTaskQueue: 'tapedeck-control-tls',
        mediaTaskQueue: mediaTaskQueue('tls-1'),
        identity: 'tls-1@test',
        shutdownGraceMs: 1000,
        client,
        placementFreshMs: 30_000,
        capacity: new MediaCapacity(1),
      });
      running = workers.run();
      const result = await client.workflow.execute('ping', {
        taskQueue: 'tapedeck-control-tls',
        workflowId: `ping-tls-${Date.now()}`,
        args: [{ message: 'over tls' }],
        workflowExecutionTimeout: '30 seconds',
      });
      assert.deepEqual(result, { echo: 'over tls (attempt 1)', worker: 'tls-1@test' });
      assert.ok(accepted - before >= 2, `both connections went through the mTLS proxy (${accepted - before} accepted)`);
    } finally {
      workers?.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    }
  });

  it('is refused without a client certificate, or with one from another CA', { timeout: 60_000 }, async () => {
    const cases: Array<Record<string, string>> = [
      { TEMPORAL_TLS_CA: pki.file('test-ca.crt'), TEMPORAL_TLS_SERVER_NAME: SERVER_NAME },
      { TEMPORAL_TLS_CERT: pki.file('rogue.crt'), TEMPORAL_TLS_KEY: pki.file('rogue.key'), TEMPORAL_TLS_CA: pki.file('test-ca.crt'), TEMPORAL_TLS_SERVER_NAME: SERVER_NAME },
    ];
    for (const vars of cases) {
      const refusedBefore = refused;
      const { temporal } = configFor(vars);
      await assert.rejects(() => callOnce(temporal));
      assert.ok(refused > refusedBefore, `the proxy refused the handshake (${JSON.stringify(Object.keys(vars))})`);
    }
  });

  it('checks the server certificate against TEMPORAL_TLS_SERVER_NAME', { timeout: 30_000 }, async () => {
    // the server's certificate names temporal.test only: verifying it as "localhost" must fail
    const { temporal } = configFor({ TEMPORAL_TLS_CERT: pki.file('worker.crt'), TEMPORAL_TLS_KEY: pki.file('worker.key'), TEMPORAL_TLS_CA: pki.file('test-ca.crt'), TEMPORAL_TLS_SERVER_NAME: 'localhost' });
    await assert.rejects(() => callOnce(temporal));
  });

  it('sends TEMPORAL_API_KEY as a bearer token over TLS, from the client and from the worker connection', { timeout: 60_000 }, async () => {
    const seen: Array<string | undefined> = [];
    const inspector = http2.createSecureServer({ key: pki.read('server.key'), cert: pki.read('server.crt') });
    inspector.on('stream', (stream, headers) => {
      seen.push(headers.authorization as string | undefined);
      // a gRPC "trailers-only" answer: this server implements nothing
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'inspector' }, { endStream: true });
    });
    inspector.on('sessionError', () => undefined);
    const port = await new Promise<number>((resolve) => inspector.listen(0, '127.0.0.1', () => resolve((inspector.address() as { port: number }).port)));
    try {
      const { temporal } = loadApiConfig({
        TAPEDECK_API_TOKENS: 'livestream-service:a-token-of-sixteen-chars-at-least',
        TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        TEMPORAL_API_KEY: 'tdk-test-api-key',
        TEMPORAL_TLS_CA: pki.file('test-ca.crt'),
        TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      });
      assert.equal(temporal.apiKey, 'tdk-test-api-key');
      const c = await Connection.connect({ ...temporal, connectTimeout: 5000 }).catch(() => undefined);
      if (c) {
        await c.workflowService.describeNamespace({ namespace: 'default' }).catch(() => undefined);
        await c.close();
      }
      assert.ok(seen.length >= 1, 'the client called the server');
      assert.ok(seen.every((h) => h === 'Bearer tdk-test-api-key'), `client: ${JSON.stringify(seen)}`);
      seen.length = 0;
      await NativeConnection.connect(temporal)
        .then((n) => n.close())
        .catch(() => undefined);
      assert.ok(seen.length >= 1, 'the worker connection called the server');
      assert.ok(seen.every((h) => h === 'Bearer tdk-test-api-key'), `worker: ${JSON.stringify(seen)}`);
    } finally {
      inspector.close();
    }
  });
});
