// The configuration modules: defaults, malformed values, unknown variables, and the README table.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporalConnectOptions } from '../../apps/common/clients';
import { ConfigError, declaredVariables } from '../../apps/common/config';
import { loadApiConfig } from '../../apps/api/config';
import { loadWorkerConfig } from '../../apps/worker/config';
import { loadStackConfig } from '../../apps/stack/config';
import { PROJECT_ROOT } from '../../infra/stack/tools';

const TOKENS = 'livestream-service:ls-token-0123456789abcdef,reviewer:rv-token-0123456789abcdef';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('loads the contract defaults', () => {
    const api = loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS });
    assert.deepEqual(api.temporalAddress, { host: '127.0.0.1', port: 7233 });
    assert.equal(api.port, 3000);
    assert.equal(api.host, '127.0.0.1');
    assert.equal(api.bucket, 'tapedeck-local');
    assert.equal(api.projectId, 'tapedeck-local');
    assert.equal(api.storageEmulator, undefined);
    assert.deepEqual(api.tokens.map((t) => t.role), ['livestream-service', 'reviewer']);

    const worker = loadWorkerConfig({ TAPEDECK_WORKER_ID: 'media-1' });
    assert.deepEqual(worker.roles, ['control', 'media']);
    assert.equal(worker.mediaTaskQueue, 'tapedeck-media-media-1');

    const stack = loadStackConfig({}, '/srv/tapedeck');
    assert.deepEqual(stack.ports, { host: '127.0.0.1', temporal: 7233, temporalUi: 8233, pubsub: 8085, gcs: 4443, api: 3000, workerHttp: 3001, moderatorHttp: 3002 });
    assert.equal(stack.dataDir, '/srv/tapedeck/.data');
  });

  it('parses the emulator hosts in both usual spellings', () => {
    const api = loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, STORAGE_EMULATOR_HOST: '127.0.0.1:4443', PUBSUB_EMULATOR_HOST: 'localhost:8085' });
    assert.equal(api.storageEmulator?.origin, 'http://127.0.0.1:4443');
    assert.deepEqual(api.pubsubEmulator, { host: 'localhost', port: 8085 });
  });

  it('names a malformed value', () => {
    const problems = problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, TAPEDECK_API_PORT: 'eighty' }));
    assert.deepEqual(problems, ['TAPEDECK_API_PORT: "eighty" is not a port number']);
    assert.match(problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, TAPEDECK_API_PORT: '70000' }))[0]!, /TAPEDECK_API_PORT: 70000 is not a port/);
    assert.match(problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, TEMPORAL_ADDRESS: 'nowhere' }))[0]!, /^TEMPORAL_ADDRESS: "nowhere" is not host:port/);
    assert.match(problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, TAPEDECK_BUCKET: 'Bad_Bucket!' }))[0]!, /^TAPEDECK_BUCKET: /);
    assert.match(problemsOf(() => loadWorkerConfig({ TAPEDECK_WORKER_ROLES: 'control,transcode' }))[0]!, /^TAPEDECK_WORKER_ROLES: "transcode" is not a role/);
    assert.match(problemsOf(() => loadWorkerConfig({ TAPEDECK_WORKER_ID: '../etc' }))[0]!, /^TAPEDECK_WORKER_ID: /);
    assert.match(problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, TAPEDECK_LOG_LEVEL: 'loud' }))[0]!, /^TAPEDECK_LOG_LEVEL: "loud" is not one of/);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(() => loadApiConfig({ TAPEDECK_API_PORT: 'x', TAPEDECK_HEALTH_TIMEOUT_MS: '5' }));
    assert.equal(problems.length, 3);
    assert.ok(problems.some((p) => p.startsWith('TAPEDECK_API_TOKENS: required but not set')));
    assert.ok(problems.some((p) => p.startsWith('TAPEDECK_API_PORT:')));
    assert.ok(problems.some((p) => p.startsWith('TAPEDECK_HEALTH_TIMEOUT_MS: 5 is out of range')));
  });

  it('rejects unknown TAPEDECK_ variables and suggests the near one', () => {
    const problems = problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, TAPEDECK_API_PROT: '3000', TAPEDECK_NONSENSE_THING: '1' }));
    assert.deepEqual(problems, [
      'TAPEDECK_API_PROT: unknown variable (did you mean TAPEDECK_API_PORT?)',
      'TAPEDECK_NONSENSE_THING: unknown variable',
    ]);
    // Variables of other processes are known (npm start hands one environment to all of them).
    assert.doesNotThrow(() => loadApiConfig({ TAPEDECK_API_TOKENS: TOKENS, TAPEDECK_WORKER_ROLES: 'media' }));
  });

  it('checks API tokens without echoing them', () => {
    const secret = 'reviewer-secret-that-must-not-leak';
    const problems = problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: `auditor:${secret}` }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^TAPEDECK_API_TOKENS: entry 1: "auditor" is not a role/);
    const short = problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: 'reviewer:short' }));
    assert.match(short[0]!, /token shorter than 16/);
    assert.ok(!short[0]!.includes('short '), 'the token itself is not in the message');
    const noColon = problemsOf(() => loadApiConfig({ TAPEDECK_API_TOKENS: secret }));
    assert.ok(!noColon[0]!.includes(secret));
  });

  it('keeps the local stack on one address', () => {
    const problems = problemsOf(() => loadStackConfig({ PUBSUB_EMULATOR_HOST: '127.0.0.2:8085' }, '/tmp'));
    assert.match(problems[0]!, /^PUBSUB_EMULATOR_HOST: the local stack runs every component on one address/);
  });

  it('documents every variable in the README with its default', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const v of declaredVariables()) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${v.name}\``));
      assert.ok(row, `README has no configuration row for ${v.name}`);
      if (v.default !== undefined) assert.ok(row.includes(`\`${v.default}\``), `README row for ${v.name} lacks its default ${v.default}`);
    }
  });

  it('builds Temporal connection options: plain, TLS, mTLS, API key; PEM problems name the variable', () => {
    const files: Record<string, string> = {
      '/c.crt': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      '/c.key': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      '/not.pem': 'hello',
    };
    const read = (path: string) => {
      const f = files[path];
      if (f === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return Buffer.from(f);
    };
    const base = { temporalAddress: { host: 'tc.example', port: 7233 }, temporalTls: false };
    assert.deepEqual(temporalConnectOptions(base, read), { address: 'tc.example:7233' });
    assert.deepEqual(temporalConnectOptions({ ...base, temporalTls: true }, read), { address: 'tc.example:7233', tls: {} });
    const mtls = temporalConnectOptions({ ...base, temporalTlsCert: '/c.crt', temporalTlsKey: '/c.key', temporalTlsCa: '/c.crt', temporalTlsServerName: 'tc' }, read);
    assert.equal(mtls.tls?.serverNameOverride, 'tc');
    assert.equal(mtls.tls?.clientCertPair?.crt.toString(), files['/c.crt']);
    assert.equal(mtls.tls?.serverRootCACertificate?.toString(), files['/c.crt']);
    assert.deepEqual(temporalConnectOptions({ ...base, temporalApiKey: 'k' }, read), { address: 'tc.example:7233', tls: {}, apiKey: 'k' });
    assert.throws(() => temporalConnectOptions({ ...base, temporalTlsCert: '/c.crt' }, read), /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: an mTLS client needs both/);
    assert.throws(() => temporalConnectOptions({ ...base, temporalTlsCa: '/missing.crt' }, read), /TEMPORAL_TLS_CA: cannot read \/missing.crt \(ENOENT\)/);
    assert.throws(() => temporalConnectOptions({ ...base, temporalTlsCert: '/c.key', temporalTlsKey: '/not.pem' }, read), (e: Error) => /TEMPORAL_TLS_CERT: \/c.key is not a PEM file/.test(e.message) && /TEMPORAL_TLS_KEY: \/not.pem is not a PEM file/.test(e.message));
  });

  it('stops a process on a bad value with a message naming it (exit 78)', () => {
    const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'apps', 'api', 'main.js')], {
      env: { PATH: '/usr/bin:/bin', TAPEDECK_API_TOKENS: TOKENS, TAPEDECK_API_PORT: 'abc' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /tapedeck-api: invalid configuration:\n {2}- TAPEDECK_API_PORT: "abc" is not a port number/);

    const t = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'apps', 'api', 'main.js')], {
      env: { PATH: '/usr/bin:/bin', TAPEDECK_API_TOKENS: TOKENS, TEMPORAL_TLS_CA: '/nonexistent/ca.pem', TEMPORAL_API_KEY: 'never-printed-key' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(t.status, 78, t.stderr);
    assert.match(t.stderr, /TEMPORAL_TLS_CA: cannot read \/nonexistent\/ca.pem \(ENOENT\)/);
    assert.ok(!t.stderr.includes('never-printed-key'));

    const w = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'apps', 'worker', 'main.js')], {
      env: { PATH: '/usr/bin:/bin', TAPEDECK_WORKER_ROLES: 'everything' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(w.status, 78, w.stderr);
    assert.match(w.stderr, /TAPEDECK_WORKER_ROLES: "everything" is not a role/);
  });
});
