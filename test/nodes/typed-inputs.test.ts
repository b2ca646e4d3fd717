// A node's run gets inputs typed from its schema (checked by the compiler: this file fails the typecheck when a
// mapping is wrong), and the schema's defaults are what runNode and the executor fill in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnyModelHandle } from '../../src/nodes/common/model.js';
import type { SocketValues } from '../../src/nodes/common/define-node.js';
import { DDPOUpdate } from '../../src/nodes/ddpo-update.js';
import { LoadImage } from '../../src/nodes/load-image.js';
import type { PromptSet } from '../../src/nodes/prompt-set.js';
import { PriorClassGen } from '../../src/nodes/prior-class-gen.js';
import { Sample } from '../../src/nodes/sample.js';
import type { SamplerName } from '../../src/runtime/diffusion/sampler.js';
import { defineNode, type InputsOf } from '../../src/runtime/graph/node-api.js';
import { DDPO_DEFAULTS } from '../../src/runtime/training/ddpo.js';
import { withDefaults } from './run-node.js';
import { builtinNodes } from '../../src/nodes/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(_proof: Equal<A, B>) => undefined;

test('widgets, combos and links get their value types; optional inputs without a default may be absent', () => {
  type SampleIn = InputsOf<(typeof Sample)['inputs'], SocketValues>;
  same<SampleIn['steps'], number>(true);
  same<SampleIn['prompt'], string>(true);
  same<SampleIn['sampler'], SamplerName>(true);
  same<SampleIn['model'], AnyModelHandle>(true);
  type PriorIn = InputsOf<(typeof PriorClassGen)['inputs'], SocketValues>;
  same<PriorIn['prompts'], PromptSet | undefined>(true);
  // Optional with a default: always there when run is called.
  type DdpoIn = InputsOf<(typeof DDPOUpdate)['inputs'], SocketValues>;
  same<DdpoIn['inner_epochs'], number>(true);
  same<DdpoIn['prompt_sampling'], 'uniform' | 'round-robin'>(true);
  // Computed options: any string.
  same<InputsOf<(typeof LoadImage)['inputs'], SocketValues>['image'], string>(true);
  // Without a socket type map, links of other types are unknown; primitive ones keep their types.
  const plain = defineNode({
    type: 'T', displayName: 'T', category: 'test', description: '', outputs: [],
    inputs: { model: { type: 'MODEL', link: true }, n: { type: 'INT', link: true }, flag: { type: 'BOOLEAN', optional: true } },
    run: async () => ({ outputs: [] }),
  });
  type PlainIn = InputsOf<(typeof plain)['inputs']>;
  same<PlainIn['model'], unknown>(true);
  same<PlainIn['n'], number>(true);
  same<PlainIn['flag'], boolean | undefined>(true);
});

test('the schema is the one source of defaults: runNode fills them, the trainer\'s defaults are the schema\'s', () => {
  const model = {} as AnyModelHandle;
  assert.deepEqual(withDefaults(Sample, { model, prompt: 'a cat' }), {
    model, prompt: 'a cat', negative_prompt: '', sampler: 'ddim', steps: 25, guidance: 5, seed: 0, images_per_prompt: 4, lora_strength: 1, eta: 0,
  });
  const ddpo = DDPOUpdate.inputs;
  assert.equal(ddpo.samples_per_epoch.default, DDPO_DEFAULTS.samplesPerEpoch);
  assert.equal(ddpo.learning_rate.default, DDPO_DEFAULTS.lr);
});

// defineNode infers its inputs' type, so TypeScript no longer flags a misspelled key in an input spec ("defualt"):
// every built-in node's specs are checked against the keys InputSpec declares instead.
test('every built-in input spec uses only keys InputSpec declares', () => {
  const common = ['type', 'tooltip', 'optional', 'forceInput'];
  const allowed: Record<string, string[]> = {
    INT: [...common, 'default', 'min', 'max', 'step', 'controlAfterGenerate'],
    FLOAT: [...common, 'default', 'min', 'max', 'step', 'round'],
    STRING: [...common, 'default', 'multiline', 'placeholder'],
    BOOLEAN: [...common, 'default', 'labelOn', 'labelOff'],
    COMBO: [...common, 'options', 'default', 'imageUpload'],
  };
  const strays: string[] = [];
  for (const def of builtinNodes)
    for (const [name, spec] of Object.entries(def.inputs)) {
      const keys = 'link' in spec ? [...common, 'link'] : allowed[spec.type];
      assert.ok(keys, `${def.type}.${name}: type ${spec.type} is a widget type or has link: true`);
      for (const k of Object.keys(spec)) if (!keys.includes(k)) strays.push(`${def.type}.${name}.${k}`);
    }
  assert.deepEqual(strays, []);
});
