// Bakes a LoRA into UNet weights: W' = W + strength * (alpha/rank) * up @ down for each adapted linear layer, so the
// result runs (and saves as a checkpoint) without adapters and gives what the adapter gave at that strength.
import { toFloat32 } from '../engine/safetensors.js';
import type { HostTensor } from '../onnx/tensor.js';
import type { LoraWeights } from '../models/sd-pipeline.js';
import { loraNames } from '../onnx/layers.js';

const ADAPTER = /^(.*)\.lora_(down|up)\.weight$/;

/** Prefixes of the layers a LoRA adapts, checking that each has both halves. */
export function loraPrefixes(lora: LoraWeights): string[] {
  const halves = new Map<string, Set<string>>();
  for (const name of lora.weights.keys()) {
    const m = ADAPTER.exec(name);
    if (!m) throw new Error(`LoRA tensor '${name}' is neither <layer>.lora_down.weight nor <layer>.lora_up.weight`);
    (halves.get(m[1]) ?? halves.set(m[1], new Set()).get(m[1])!).add(m[2]);
  }
  for (const [p, h] of halves) if (h.size !== 2) throw new Error(`LoRA layer '${p}' has a lora_${[...h][0]} but no lora_${h.has('up') ? 'down' : 'up'} weight`);
  return [...halves.keys()];
}

/**
 * A new weight map with the adapter merged at `strength`. Adapted weights are new float32 tensors; every other entry
 * is shared with `weights` (not copied).
 */
export function mergeLora(weights: Map<string, HostTensor>, lora: LoraWeights, strength = 1): Map<string, HostTensor> {
  if (!Number.isFinite(strength)) throw new Error(`LoRA strength must be a finite number, got ${strength}`);
  const scale = (strength * lora.alpha) / lora.rank;
  const out = new Map(weights);
  for (const prefix of loraPrefixes(lora)) {
    const names = loraNames(prefix);
    const key = `${prefix}.weight`;
    const base = weights.get(key);
    if (!base) throw new Error(`LoRA adapts '${prefix}', but the weights have no '${key}'`);
    const down = toFloat32(lora.weights.get(names.down)!, names.down);
    const up = toFloat32(lora.weights.get(names.up)!, names.up);
    if (base.shape.length !== 2) throw new Error(`LoRA adapts '${prefix}', whose weight has shape [${base.shape}] (expected a linear layer's [out, in])`);
    const [outF, inF] = base.shape;
    const r = down.shape[0];
    if (down.shape.length !== 2 || up.shape.length !== 2 || down.shape[1] !== inF || up.shape[0] !== outF || up.shape[1] !== r)
      throw new Error(`LoRA '${prefix}': down [${down.shape}] and up [${up.shape}] do not fit the weight [${base.shape}]`);
    const w = Float32Array.from(toFloat32(base, key).data as Float32Array);
    const d = down.data as Float32Array, u = up.data as Float32Array;
    const row = new Float64Array(inF);
    for (let o = 0; o < outF; o++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const c = u[o * r + k];
        if (c === 0) continue;
        for (let i = 0; i < inF; i++) row[i] += c * d[k * inF + i];
      }
      for (let i = 0; i < inF; i++) w[o * inF + i] += scale * row[i];
    }
    out.set(key, { dtype: 'float32', shape: [outF, inF], data: w });
  }
  return out;
}
