import { test } from 'node:test';
import * as op from '../../src/runtime/onnx/ops/index.js';
import { gradCheck } from './gradcheck.js';

const away = (rng: { uniform(): number }, n: number) => Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? -1 : 1) * (0.3 + rng.uniform()));

test('binary ops with broadcasting and odd sizes', async () => {
  for (const [name, f] of Object.entries({ add: op.add, sub: op.sub, mul: op.mul })) {
    await gradCheck((_, [a, b]) => f(a, b), [{ shape: [3, 1, 5] }, { shape: [4, 1] }], { seed: name.length });
    await gradCheck((_, [a, b]) => f(a, b), [{ shape: [2, 3] }, { shape: [] }]);
  }
  await gradCheck((_, [a, b]) => op.div(a, b), [{ shape: [3, 4] }, { shape: [1, 4], init: 'positive' }]);
  await gradCheck((_, [a, b]) => op.pow(a, b), [{ shape: [3, 5], init: 'positive' }, { shape: [5] }], { h: 1e-3 });
  await gradCheck((_, [a, b]) => op.maximum(a, b), [{ shape: [7] }, { shape: [7] }]);
  await gradCheck((_, [a, b]) => op.minimum(a, b), [{ shape: [2, 7] }, { shape: [7] }]);
});

test('unary ops', async () => {
  const cases: [string, (x: Parameters<typeof op.exp>[0]) => ReturnType<typeof op.exp>, 'normal' | 'positive' | typeof away][] = [
    ['neg', op.neg, 'normal'], ['abs', op.abs, away], ['sqrt', op.sqrt, 'positive'], ['exp', op.exp, 'normal'],
    ['log', op.log, 'positive'], ['sigmoid', op.sigmoid, 'normal'], ['tanh', op.tanh, 'normal'], ['relu', op.relu, away],
    ['erf', op.erf, 'normal'], ['sin', op.sin, 'normal'], ['cos', op.cos, 'normal'], ['reciprocal', op.reciprocal, 'positive'],
  ];
  for (const [, f, init] of cases) await gradCheck((_, [x]) => f(x), [{ shape: [3, 7], init }]);
});

test('where, sum, cast, clip', async () => {
  await gradCheck((b, [x, y]) => op.where(op.greater(x, 0), x, y), [{ shape: [4, 3], init: away }, { shape: [3] }]);
  await gradCheck((_, [x, y, z]) => op.sum([x, y, z]), [{ shape: [2, 3] }, { shape: [3] }, { shape: [2, 1] }]);
  await gradCheck((_, [x]) => op.mul(op.cast(op.cast(x, 'float64'), 'float32'), x), [{ shape: [5] }]);
  await gradCheck((b, [x]) => b.op1('Clip', [x, b.scalar(-0.5), b.scalar(0.5)]), [{ shape: [20], init: away }]);
});
