// Every shared example in workflows/ parses, converts to an API prompt and names only known nodes and inputs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createRegistry } from '../../src/nodes/index.js';
import { defaultFolders } from '../../src/runtime/graph/folders.js';
import { uiToPrompt } from '../../src/runtime/graph/ui-to-api.js';
import { parseWorkflowJson } from '../../src/runtime/graph/workflow-ui.js';

const dir = path.join(import.meta.dirname, '../../workflows');

test('example workflows are valid UI workflows of known nodes', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length > 0);
  const registry = createRegistry();
  for (const f of files) {
    const parsed = parseWorkflowJson(fs.readFileSync(path.join(dir, f), 'utf8'));
    assert.equal(parsed.kind, 'ui', `${f} is a UI workflow (editable in the editor)`);
    if (parsed.kind !== 'ui') continue;
    const prompt = uiToPrompt(parsed.workflow, registry, defaultFolders());
    for (const [id, node] of Object.entries(prompt)) {
      const def = registry.get(node.class_type);
      assert.ok(def, `${f}: node ${id} has unknown type ${node.class_type}`);
      for (const input of Object.keys(node.inputs)) assert.ok(input in def.inputs, `${f}: node ${id} has no input ${input}`);
    }
    assert.ok(Object.values(prompt).some((n) => registry.get(n.class_type)!.outputNode), `${f} has an output node`);
  }
});
