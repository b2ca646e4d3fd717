// The prompt the editor queues, checked in Node: its conversion (web/src/graph-to-prompt.ts, which runs the shared
// src/runtime/graph/workflow-to-prompt.ts) over /object_info as it arrives (JSON over HTTP), on workflow JSON as
// saved (0.4 tuples or version 1 objects, not parsed by the server's reader). For every graph fixture it gives the
// expected prompt; for every workflow the editor is offered it gives the server's own prompt for that file, and one
// the server's validation accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promptOf } from '../../web/src/graph-to-prompt.js';
import type { ObjectInfo } from '../../src/runtime/graph/object-info.js';
import { NodeRegistry } from '../../src/runtime/graph/registry.js';
import { uiToPrompt } from '../../src/runtime/graph/ui-to-api.js';
import { validatePrompt } from '../../src/runtime/graph/validate.js';
import { parseUiWorkflow, type UiWorkflowJsonV04 } from '../../src/runtime/graph/workflow-ui.js';
import { createRegistry } from '../../src/nodes/index.js';
import { defaultFolders } from '../../src/runtime/graph/folders.js';
import type { Folders } from '../../src/runtime/graph/node-api.js';
import { fakeRegistry, folders as fakeFolders } from '../graph/fake-nodes.js';
import { REPO_ROOT, WORKFLOWS_DIR } from './fake-server.js';
import { fakeObjectInfoRegistry } from './fake-nodes.js';
import { GRAPH_FIXTURES_DIR, graphFixtureCases } from './graph-fixture-cases.js';

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
/** /object_info as the editor receives it. */
const served = (registry: NodeRegistry, f: Folders) => JSON.parse(JSON.stringify(registry.objectInfo(f))) as ObjectInfo;

const cases = graphFixtureCases();

test('the graph fixtures are all here', () => {
  assert.equal(cases.length, 5);
});

for (const [workflow, expected] of cases)
  test(`editor prompt: ${workflow} gives ${expected}`, () => {
    const wf = readJson(join(GRAPH_FIXTURES_DIR, workflow)) as UiWorkflowJsonV04;
    assert.deepEqual(promptOf(wf, served(fakeRegistry(), fakeFolders)), readJson(join(GRAPH_FIXTURES_DIR, expected)));
  });

/** The prompt the editor queues for each workflow in `dir` is the server's for that file, and passes validation (the
 * nodes' own checks aside: they look for files, such as subject images, that these tests do not have). */
function checkOffered(dir: string, registry: NodeRegistry, folders: Folders): void {
  const info = served(registry, folders);
  const schemaChecksOnly = new NodeRegistry(registry.all().map((d) => ({ ...d, validate: undefined })));
  const names = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(names.length > 0);
  for (const name of names) {
    const file = readJson(join(dir, name)) as UiWorkflowJsonV04;
    const prompt = promptOf(file, info);
    assert.deepEqual(prompt, uiToPrompt(parseUiWorkflow(file), registry, folders), name);
    const accepted = validatePrompt(prompt, schemaChecksOnly, folders);
    assert.deepEqual(accepted.nodeErrors, {}, name);
    assert.ok(accepted.outputs.length > 0, name);
  }
}

test("the browser tests' workflows: the editor queues the server's prompt, and the server accepts it", () => {
  checkOffered(WORKFLOWS_DIR, fakeObjectInfoRegistry(), fakeFolders);
});

test("the examples menu's workflows (workflows/): the editor queues the server's prompt, and the server accepts it", () => {
  checkOffered(join(REPO_ROOT, 'workflows'), createRegistry(), defaultFolders());
});
