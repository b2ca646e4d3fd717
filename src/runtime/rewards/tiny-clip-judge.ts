// The trained tiny CLIP as a judge (models/embedded/judge/, made by `npm run train:judge`): the world's CLIP-T
// (alignment = cosine of the image's and the prompt's embeddings; callers remove identifiers first, as CLIP-T does)
// and its DINO stand-in (image embeddings whose cosine measures subject fidelity). Folder: config.json,
// model.safetensors (float32 or float16), tokenizer/ (CLIP vocab.json + merges.txt).
// Images of any size are centre-cropped square and resampled to the model's resolution (area average when
// shrinking, bilinear when enlarging). One inference session per batch size, built on first use.
import fs from 'node:fs';
import path from 'node:path';
import { type ImageBatch } from '../engine/image.js';
import { decodeSafetensors, toFloat32 } from '../engine/safetensors.js';
import { Session, type SessionOptions } from '../engine/session.js';
import type { HostTensor } from '../onnx/tensor.js';
import { ClipTokenizer } from '../diffusion/tokenizer.js';
import { WeightsSource } from '../onnx/params.js';
import { resizeShorterAndCenterCrop, rgbOnly, toNchw } from './resample.js';
import { type TinyClipConfig, tinyClipConfigFromJson, tinyClipImageGraph, tinyClipTextGraph } from './tiny-clip.js';
import { type AlignmentScorer, type ImageEmbedder, promptFor, type Releasable } from './types.js';

/** Images per session run; larger batches are split. */
const MAX_BATCH = 64;
const TEXT_CACHE_LIMIT = 4096;

/** The model's input resolution, from any image size (alpha dropped). */
export function judgeInput(images: ImageBatch, size: number): ImageBatch {
  const rgb = rgbOnly(images);
  if (rgb.width === size && rgb.height === size) return rgb;
  const shrink = Math.min(rgb.width, rgb.height) > size;
  return resizeShorterAndCenterCrop(rgb, size, shrink ? 'box' : 'bilinear');
}

export class TinyClipJudge implements AlignmentScorer, ImageEmbedder, Releasable {
  private imageSessions = new Map<number, Promise<Session>>();
  private textSessions = new Map<number, Promise<Session>>();
  private textCache = new Map<string, Float32Array>();
  private readonly source: WeightsSource;

  constructor(
    readonly config: TinyClipConfig,
    weights: Map<string, HostTensor>,
    readonly tokenizer: ClipTokenizer,
    private readonly sessionOptions: SessionOptions = {},
  ) {
    const w = new Map<string, HostTensor>();
    for (const [k, t] of weights) w.set(k, toFloat32(t, `judge weight '${k}'`));
    this.source = new WeightsSource(w);
  }

  static load(dir: string, o: SessionOptions = {}): TinyClipJudge {
    const at = (f: string) => path.join(dir, f);
    for (const f of ['config.json', 'model.safetensors'])
      if (!fs.existsSync(at(f))) throw new Error(`${dir}: not a tiny CLIP judge folder (no ${f}; make one with npm run train:judge)`);
    const config = tinyClipConfigFromJson(JSON.parse(fs.readFileSync(at('config.json'), 'utf8')) as Record<string, unknown>, at('config.json'));
    const { tensors } = decodeSafetensors(fs.readFileSync(at('model.safetensors')), at('model.safetensors'));
    const tokDir = fs.existsSync(at('tokenizer')) ? at('tokenizer') : dir;
    const tokenizer = ClipTokenizer.fromFolder(tokDir);
    if (tokenizer.vocabSize > config.text.vocabSize)
      throw new Error(`${tokDir}: the tokenizer has ${tokenizer.vocabSize} tokens, the judge's text tower ${config.text.vocabSize}`);
    return new TinyClipJudge(config, new Map(Object.entries(tensors)), tokenizer, o);
  }

  private session(kind: 'image' | 'text', batch: number): Promise<Session> {
    const cache = kind === 'image' ? this.imageSessions : this.textSessions;
    let s = cache.get(batch);
    if (!s) {
      const b = kind === 'image' ? tinyClipImageGraph(this.config, this.source, batch) : tinyClipTextGraph(this.config, this.source, batch);
      s = Session.fromGraph(b.graph, this.sessionOptions);
      s.catch(() => cache.delete(batch));
      cache.set(batch, s);
    }
    return s;
  }

  /** One unit embedding per image (the DINO stand-in's features). */
  async embed(images: ImageBatch): Promise<Float32Array[]> {
    const S = this.config.imageSize;
    const x = judgeInput(images, S);
    const D = this.config.embedDim;
    const out: Float32Array[] = [];
    for (let from = 0; from < x.count; from += MAX_BATCH) {
      const n = Math.min(MAX_BATCH, x.count - from);
      const s = await this.session('image', n);
      const px: HostTensor = { dtype: 'float32', shape: [n, 3, S, S], data: toNchw(x, { from, count: n }) };
      const e = (await s.run({ pixel_values: px }, ['image_embeds'])).image_embeds.data as Float32Array;
      for (let i = 0; i < n; i++) out.push(e.slice(i * D, (i + 1) * D));
    }
    return out;
  }

  /** One unit embedding per text (cached by text: reward loops score the same prompts again and again). */
  async embedText(texts: readonly string[]): Promise<Float32Array[]> {
    const L = this.config.textLength;
    const D = this.config.embedDim;
    const found = new Map<string, Float32Array>();
    for (const t of texts) {
      const hit = this.textCache.get(t);
      if (hit) found.set(t, hit);
    }
    const todo = [...new Set(texts.filter((t) => !found.has(t)))];
    for (let from = 0; from < todo.length; from += MAX_BATCH) {
      const chunk = todo.slice(from, from + MAX_BATCH);
      const s = await this.session('text', chunk.length);
      const ids: HostTensor = { dtype: 'int64', shape: [chunk.length, L], data: this.tokenizer.encodeBatch(chunk, { length: L }) };
      const e = (await s.run({ input_ids: ids }, ['text_embeds'])).text_embeds.data as Float32Array;
      if (this.textCache.size + chunk.length > TEXT_CACHE_LIMIT) this.textCache.clear();
      chunk.forEach((t, i) => {
        const v = e.slice(i * D, (i + 1) * D);
        found.set(t, v);
        this.textCache.set(t, v);
      });
    }
    return texts.map((t) => found.get(t)!);
  }

  /** CLIP-T: cosine of each image's embedding and its prompt's. */
  async score(images: ImageBatch, prompts: string[]): Promise<number[]> {
    const perImage = Array.from({ length: images.count }, (_, i) => promptFor(prompts, images.count, i));
    const [img, txt] = [await this.embed(images), await this.embedText(perImage)];
    return img.map((e, i) => dot(e, txt[i]));
  }

  async release(): Promise<void> {
    const all = [...this.imageSessions.values(), ...this.textSessions.values()];
    this.imageSessions.clear();
    this.textSessions.clear();
    for (const s of all) await (await s).release();
  }
}

/** Dot product: the cosine of two unit vectors. */
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
