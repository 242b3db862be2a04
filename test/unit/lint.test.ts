// The determinism fence: lint rejects Node built-ins and process.env in workflows/, and allows
// them elsewhere.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../infra/stack/tools';

const BAD = `import { readFileSync } from 'node:fs';
import * as path from 'path';
export function wf(): string {
  return readFileSync(path.join('a', process.env.HOME ?? '')).toString();
}
`;

async function lint(relativePath: string, code: string) {
  const { ESLint } = require('eslint') as typeof import('eslint');
  const eslint = new ESLint({ cwd: PROJECT_ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(PROJECT_ROOT, relativePath) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint', () => {
  it('keeps Node built-ins and process.env out of workflows/', async () => {
    const messages = await lint('workflows/bad.workflow.ts', BAD);
    assert.equal(messages.filter((m) => m.startsWith('no-restricted-imports')).length, 2, messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('no-restricted-properties') && m.includes('process.env')), messages.join('\n'));
  });

  it('lets workflows import types only from activities', async () => {
    const code = `import { createPingActivities } from '../activities/ping.activity';\nexport const x = createPingActivities;\n`;
    const typeOnly = `import type { PingActivities } from '../activities/ping.activity';\nexport type X = PingActivities;\n`;
    assert.ok((await lint('workflows/x.workflow.ts', code)).some((m) => m.startsWith('no-restricted-imports')));
    assert.deepEqual(await lint('workflows/x.workflow.ts', typeOnly), []);
  });

  it('allows Node built-ins in activities but reads config only through the env module', async () => {
    const messages = await lint('activities/ok.activity.ts', BAD);
    assert.ok(!messages.some((m) => m.startsWith('no-restricted-imports')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('no-restricted-properties')), 'process.env outside apps/common/env.ts is flagged');
  });
});
