// The pipeline host's environment: the Opus size cache first in LD_PRELOAD when it is on and built.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hostEnvironment, opusSizeCacheEnabled, opusSizeCacheState } from '../../pipelines/supervisor';

const dir = mkdtempSync(join(tmpdir(), 'tapedeck-preload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const lib = join(dir, 'libtapedeck-opus-size-cache.so');
writeFileSync(lib, '');
const missing = join(dir, 'not-built.so');

describe('hostEnvironment', () => {
  it('puts the library in LD_PRELOAD by default and keeps the rest of the environment', () => {
    const env = hostEnvironment({ PATH: '/usr/bin', GST_DEBUG: '2' }, lib);
    assert.deepEqual(env, { PATH: '/usr/bin', GST_DEBUG: '2', LD_PRELOAD: lib });
  });

  it('goes first in front of an LD_PRELOAD already set, and only once', () => {
    assert.equal(hostEnvironment({ LD_PRELOAD: '/opt/a.so /opt/b.so' }, lib).LD_PRELOAD, `${lib}:/opt/a.so:/opt/b.so`);
    const once = hostEnvironment({ LD_PRELOAD: `/opt/a.so:${lib}` }, lib);
    assert.equal(once.LD_PRELOAD, `/opt/a.so:${lib}`);
  });

  it('leaves the environment alone when turned off or not built', () => {
    const off = { TAPEDECK_OPUS_SIZE_CACHE: 'false', LD_PRELOAD: '/opt/a.so' };
    assert.equal(hostEnvironment(off, lib), off);
    assert.equal(opusSizeCacheState(opusSizeCacheEnabled(off), lib), 'off');
    const env = { PATH: '/usr/bin' };
    assert.equal(hostEnvironment(env, missing), env);
    assert.equal(opusSizeCacheState(opusSizeCacheEnabled(env), missing), 'missing');
    assert.equal(opusSizeCacheState(opusSizeCacheEnabled({ TAPEDECK_OPUS_SIZE_CACHE: '' }), lib), 'on', 'empty is the default');
  });

  it('names the variable when its value is not a boolean', () => {
    assert.throws(() => hostEnvironment({ TAPEDECK_OPUS_SIZE_CACHE: 'maybe' }, lib), /TAPEDECK_OPUS_SIZE_CACHE: "maybe" is not a boolean/);
  });
});
