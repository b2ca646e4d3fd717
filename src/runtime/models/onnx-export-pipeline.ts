// Text-to-image over an ONNX export's own sessions (see onnx-export.ts for the interface). Its models take any batch
// size, so each network gets one session. Inputs are cast to the element types the models declare (fp16 exports take
// and give float16; timesteps may be int64), outputs come back as float32.
import type { ImageBatch } from '../engine/image.js';
import { float16ArrayToFloat32, float32ArrayToFloat16 } from '../onnx/half.js';
import type { Rng } from '../onnx/random.js';
import { SessionPool } from '../engine/session-pool.js';
import { Session, type SessionOptions } from '../engine/session.js';
import { type HostTensor, tensor } from '../onnx/tensor.js';
import { decodeLatents, encodeImages } from '../diffusion/latent-images.js';
import type { Denoiser } from '../diffusion/sampler.js';
import { NoiseSchedule } from '../diffusion/schedule.js';
import type { OnnxExportModel } from './onnx-export.js';
import { TextToImagePipeline } from './text-to-image.js';

type Part = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder';

export class OnnxExportPipeline extends TextToImagePipeline {
  readonly schedule: NoiseSchedule;
  readonly resolution: number;
  readonly latentShape: [number, number, number];
  private pool = new SessionPool();

  constructor(
    readonly model: OnnxExportModel,
    private readonly sessionOptions: SessionOptions = {},
  ) {
    super();
    this.schedule = new NoiseSchedule(model.scheduler);
    this.resolution = model.resolution;
    const s = model.resolution / model.downscale;
    this.latentShape = [model.latentChannels, s, s];
  }

  private session(part: Part): Promise<Session> {
    const file = this.model.files[part];
    if (!file) throw new Error(`${this.model.source}: the ONNX export has no ${part}/model.onnx`);
    return this.pool.get(part, () => Session.fromFile(file, this.sessionOptions));
  }

  /** Runs `part` with float32/int feeds cast to its declared input types; its first output (or `output`) as float32. */
  private async run(part: Part, feeds: Record<string, HostTensor>, output?: string): Promise<HostTensor> {
    const s = await this.session(part);
    const cast: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (!s.inputNames.includes(name)) throw new Error(`${this.model.source}: ${part}/model.onnx has no input "${name}" (it has ${s.inputNames.join(', ')}); is it an Optimum/diffusers export?`);
      cast[name] = castTo(t, s.inputInfo(name)?.type ?? t.dtype);
    }
    const name = output && s.outputNames.includes(output) ? output : s.outputNames[0];
    return toFloat32((await s.run(cast, [name]))[name]);
  }

  async encodeText(prompts: string[], onTruncate?: (prompt: string) => void): Promise<HostTensor> {
    const ids = this.model.tokenizer.encodeBatch(prompts, { length: 77, onTruncate: onTruncate && ((p) => onTruncate(p)) });
    return this.run('text_encoder', { input_ids: tensor('int64', [prompts.length, 77], ids) }, 'last_hidden_state');
  }

  denoiser(): Denoiser {
    return {
      predict: async (latents, timesteps, cond) => {
        const s = await this.session('unet');
        const n = latents.shape[0];
        // Optimum's exports take one timestep per sample; diffusers' older ones a single [1] (or scalar) for the batch.
        const shape = s.inputInfo('timestep')?.shape ?? [n];
        const same = timesteps.every((t) => t === timesteps[0]);
        if (!same && (shape.length === 0 || shape[0] === 1))
          throw new Error(`${this.model.source}: unet/model.onnx takes one timestep for the whole batch, and this batch mixes timesteps`);
        const t = shape.length === 0 && same ? tensor('float32', [], Float32Array.of(timesteps[0]))
          : shape[0] === 1 && same ? tensor('float32', [1], Float32Array.of(timesteps[0]))
          : tensor('float32', [n], Float32Array.from(timesteps));
        return this.run('unet', { sample: latents, timestep: t, encoder_hidden_states: cond }, 'out_sample');
      },
    };
  }

  async decode(latents: HostTensor): Promise<ImageBatch> {
    return decodeLatents((z) => this.run('vae_decoder', { latent_sample: z }, 'sample'), latents, this.model.scalingFactor);
  }

  async encode(images: ImageBatch, rng?: Rng): Promise<HostTensor> {
    if (!this.model.files.vae_encoder) throw new Error(`${this.model.source}: the ONNX export has no vae_encoder/model.onnx (encoding images needs it)`);
    return encodeImages((x) => this.run('vae_encoder', { sample: x }, 'latent_sample'), images, { scale: this.model.scalingFactor, rng, latentChannels: this.model.latentChannels });
  }

  async release(): Promise<void> {
    await this.pool.releaseAll();
  }
}

/** `t` as ONNX element type `type` ('float16', 'int64', ...): the casts an export's inputs need. */
function castTo(t: HostTensor, type: string): HostTensor {
  if (type === t.dtype) return t;
  // Integers go through float64, exact to 2^53 (token ids, timesteps).
  const src = t.dtype === 'float16' ? float16ArrayToFloat32(t.data as Uint16Array) : Float64Array.from(t.data as ArrayLike<number | bigint>, Number);
  const f32 = () => (src instanceof Float32Array ? src : Float32Array.from(src));
  switch (type) {
    case 'float32': return tensor('float32', t.shape, f32());
    case 'float16': return tensor('float16', t.shape, float32ArrayToFloat16(f32()));
    case 'int64': return tensor('int64', t.shape, BigInt64Array.from(src, (v) => BigInt(Math.round(v))));
    case 'int32': return tensor('int32', t.shape, Int32Array.from(src, Math.round));
    default: throw new Error(`cannot feed ${t.dtype} to an input of type ${type}`);
  }
}

function toFloat32(t: HostTensor): HostTensor {
  return t.dtype === 'float32' ? t : castTo(t, 'float32');
}
