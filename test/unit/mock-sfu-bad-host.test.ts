// The mock SFU's deliberately bad host, as options: --frozen and --silent name hosts of the
// command line; the full-path test (main-job) checks what they do to a recording.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseCli } from '../../apps/mock-sfu/main';

describe('mock-sfu --frozen / --silent', () => {
  it('marks the named hosts only', () => {
    const { options } = parseCli(['--target', '127.0.0.1:40000,127.0.0.1:40002,127.0.0.1:40004,127.0.0.1:40006', '--frozen', 'host-2', '--silent', 'host-1,host-2']);
    assert.deepEqual(
      options.hosts.map((h) => [h.hostId, h.frozen ?? false, h.silent ?? false]),
      [
        ['host-1', false, true],
        ['host-2', true, true],
      ],
    );
  });
});
