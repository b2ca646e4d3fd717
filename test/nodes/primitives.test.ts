import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrimitiveBoolean } from '../../src/nodes/primitive-boolean.js';
import { PrimitiveFloat } from '../../src/nodes/primitive-float.js';
import { PrimitiveInt } from '../../src/nodes/primitive-int.js';
import { PrimitiveString } from '../../src/nodes/primitive-string.js';
import { PrimitiveStringMultiline } from '../../src/nodes/primitive-string-multiline.js';
import { createRegistry } from '../../src/nodes/index.js';
import type { NodeDefinition } from '../../src/runtime/graph/node-api.js';
import { fakeContext, makeFolders } from './fake-context.js';

test('primitives output their value with their type', async () => {
  const f = await makeFolders();
  try {
    const ctx = fakeContext(f);
    const cases = [
      [PrimitiveString, 'a sks cat', 'STRING'],
      [PrimitiveStringMultiline, 'line 1\nline 2', 'STRING'],
      [PrimitiveInt, 42, 'INT'],
      [PrimitiveFloat, 0.25, 'FLOAT'],
      [PrimitiveBoolean, true, 'BOOLEAN'],
    ] as const;
    for (const [node, value, type] of cases) {
      // Each case pairs a node with a value of its type, which a loop over the union cannot show the checker.
      assert.deepEqual((await (node as NodeDefinition).run({ value }, ctx)).outputs, [value], node.type);
      assert.deepEqual(node.outputs, [{ name: type, type }]);
      assert.equal(node.category, 'utils/primitive');
    }
  } finally {
    await f.cleanup();
  }
});

test('primitive schemas as ComfyUI serves them', () => {
  const info = createRegistry().objectInfo({ input: '/nonexistent', output: '', temp: '', models: '' });
  const max = Number.MAX_SAFE_INTEGER;
  assert.deepEqual(info.PrimitiveInt.input.required.value, ['INT', { default: 0, min: -max, max, control_after_generate: true }]);
  assert.deepEqual(info.PrimitiveFloat.input.required.value, ['FLOAT', { default: 0, min: -max, max, step: 0.1 }]);
  assert.deepEqual(info.PrimitiveStringMultiline.input.required.value, ['STRING', { default: '', multiline: true }]);
  assert.deepEqual(info.PrimitiveBoolean.input.required.value, ['BOOLEAN', { default: false }]);
  assert.equal(info.PrimitiveStringMultiline.display_name, 'String (Multiline)');
});
