// The editor's graph-to-prompt (web/src/graph-to-prompt.ts) against the server's uiToPrompt on the same workflows:
// both must send the same API prompt for every workflow the graph tests know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflowToPrompt } from '../../web/src/graph-to-prompt.js';
import type { ObjectInfo, Workflow } from '../../web/src/types.js';
import { parseWorkflowJson } from '../../src/runtime/graph/workflow-ui.js';
import { uiToPrompt } from '../../src/runtime/graph/ui-to-api.js';
import { fakeRegistry, folders } from '../graph/fake-nodes.js';
import { fakeObjectInfoRegistry } from './fake-nodes.js';

const here = dirname(fileURLToPath(import.meta.url));
const graphFixtures = join(here, '..', 'graph', 'fixtures');

const cases: [string, string][] = [
  ['basic.v04.json', 'basic.prompt.json'],
  ['basic.v1.json', 'basic.prompt.json'],
  ['reroute-primitive.v04.json', 'reroute-primitive.prompt.json'],
  ['muted-bypassed.v04.json', 'muted-bypassed.prompt.json'],
  ['converted-widgets.v1.json', 'converted-widgets.prompt.json'],
];

const objectInfo = fakeRegistry().objectInfo(folders) as unknown as ObjectInfo;

for (const [workflow, expected] of cases)
  test(`editor graph-to-prompt: ${workflow} gives ${expected}`, () => {
    const wf = JSON.parse(readFileSync(join(graphFixtures, workflow), 'utf8')) as Workflow;
    assert.deepEqual(workflowToPrompt(wf, objectInfo), JSON.parse(readFileSync(join(graphFixtures, expected), 'utf8')));
  });

test('editor graph-to-prompt agrees with the server on the browser-test workflows', () => {
  const registry = fakeObjectInfoRegistry();
  const info = registry.objectInfo(folders) as unknown as ObjectInfo;
  const dir = join(here, 'fixtures', 'workflows');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const text = readFileSync(join(dir, name), 'utf8');
    const parsed = parseWorkflowJson(text);
    assert.equal(parsed.kind, 'ui', name);
    const server = uiToPrompt((parsed as { kind: 'ui'; workflow: Parameters<typeof uiToPrompt>[0] }).workflow, registry, folders);
    assert.deepEqual(workflowToPrompt(JSON.parse(text) as Workflow, info), server, name);
  }
});
