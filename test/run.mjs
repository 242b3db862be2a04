// Runs the test suite (compiled to dist/test by infra/install.sh) with Node's test runner, one
// file at a time: integration tests start real servers and share the machine's two cores.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pattern = process.argv[2] ? new RegExp(process.argv[2]) : /.*/;

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.test.js') && pattern.test(path) ? [path] : [];
  });
}

const files = collect(join(root, 'dist', 'test')).sort((a, b) => {
  // unit tests first: they fail fastest
  const rank = (p) => (p.includes(`${join('test', 'unit')}`) ? 0 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
});
if (files.length === 0) {
  console.error('no test files found under dist/test: run `npm run build` first');
  process.exit(1);
}

const env = { ...process.env, PATH: `${process.env.PATH}:${join(root, '.tools', 'bin')}` };
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env,
  cwd: root,
});
process.exit(result.status ?? 1);
