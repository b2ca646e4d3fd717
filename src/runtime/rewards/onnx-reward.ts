// Reward and metric models users export to ONNX themselves (no public ONNX export of ImageReward exists, so the
// project defines the interface it accepts). A model lives in a folder, e.g. <models>/rewards/<name>/:
//   model.onnx            the network (external data files beside it are fine: onnxruntime reads them)
//   tokenizer files       in the folder or in tokenizer/: vocab.txt (BERT WordPiece) for ImageReward;
//                         vocab.json + merges.txt, or tokenizer.json (CLIP BPE), for PickScore and CLIP
//   reward.json           optional: {"kind": "imagereward" | "pickscore" | "clip", ...settings below}
//
// The ONNX interface of each kind (B may be a symbolic dimension, or a fixed number: batches are then cut to it and
// the last one padded):
//   imagereward  inputs  pixel_values   float32 [B, 3, 224, 224]
//                        input_ids      int64 (or int32) [B, 35]   bert-base-uncased ids: [CLS] text [SEP] [PAD]...
//                        attention_mask int64 (or int32) [B, 35]   1 over [CLS]..[SEP], 0 over padding
//                output  score          float32 [B] (or [B, 1]): the raw output of ImageReward's MLP head on the
//                                       first token's state. Normalized here: (score - 0.16717362830052426) /
//                                       1.0333394966054072, unless the model says it already is (see below).
//   pickscore,   inputs  pixel_values   float32 [B, 3, 224, 224]
//   clip                 input_ids      int64 (or int32) [B, 77]   CLIP BPE ids: <|startoftext|> text
//                                       <|endoftext|>, then the tokenizer's pad token
//                        attention_mask (optional) same shape, 1 up to and including <|endoftext|>
//                outputs image_embeds   float32 [B, D] (projected; normalized here either way)
//                        text_embeds    float32 [B, D]
//                        logit_scale    (optional) float32 scalar, [1] or [B]: the log of the temperature, as
//                                       transformers' CLIPModel.logit_scale holds it
//                PickScore = exp(logit_scale) * cos(image_embeds, text_embeds) (logit_scale from the output, else
//                from the settings; one of them is required). CLIP scores the plain cosine (CLIP-T) and also
//                embeds images (the CLIP-I/DINO role; the text input is then the empty prompt).
// Images: RGB (alpha dropped), shorter side resized to 224 with Pillow-style antialiased bicubic, the centre 224 x 224
// cropped (top = floor((h - 224) / 2)), clamped to [0, 1], normalized with CLIP's mean (0.48145466, 0.4578275,
// 0.40821073) and std (0.26862954, 0.26130258, 0.27577711). A fixed spatial size in the model's pixel_values shape
// replaces 224.
//
// Settings (reward.json or the ONNX file's metadata: kind, normalization, batch size...): onnx-reward-settings.ts.
import fs from 'node:fs';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { ClipTokenizer } from '../diffusion/tokenizer.js';
import { type ImageBatch } from '../engine/image.js';
import { Session, type SessionOptions } from '../engine/session.js';
import type { HostTensor } from '../onnx/tensor.js';
import { BertTokenizer } from './bert-tokenizer.js';
import {
  CLIP_MEAN, CLIP_STD, CLIP_TEXT_LENGTH, IMAGE_REWARD_MEAN, IMAGE_REWARD_STD, IMAGE_REWARD_TEXT_LENGTH, ONNX_REWARD_KINDS, type OnnxRewardKind,
  type OnnxRewardSettings, readOnnxMetadata, readSettings, settingsFromMetadata,
} from './onnx-reward-settings.js';
import { resizeShorterAndCenterCrop, rgbOnly, toNchw } from './resample.js';
import { type AlignmentScorer, type ImageEmbedder, promptFor, type Releasable } from './types.js';

type TensorMeta = { name: string; type: string; shape: readonly (number | string)[] };

function metaOf(list: readonly ort.InferenceSession.ValueMetadata[]): Map<string, TensorMeta> {
  const m = new Map<string, TensorMeta>();
  for (const v of list) m.set(v.name, v.isTensor ? { name: v.name, type: v.type, shape: v.shape } : { name: v.name, type: 'non-tensor', shape: [] });
  return m;
}

const fmtShape = (s: readonly (number | string)[]) => `[${s.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' && d ? d : '?')).join(', ')}]`;
const fixed = (d: number | string | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);

/** What the loader learned about the model's inputs: fixed batch (if any), image size, text length, id dtype. */
interface Geometry {
  batch?: number;
  imageSize: number;
  textLength: number;
  idType: 'int64' | 'int32';
  hasMask: boolean;
}

function checkInterface(file: string, kind: OnnxRewardKind, session: Session, settings: OnnxRewardSettings): Geometry {
  const ins = metaOf(session.ort.inputMetadata);
  const outs = metaOf(session.ort.outputMetadata);
  const wantIn = kind === 'imagereward' ? ['pixel_values', 'input_ids', 'attention_mask'] : ['pixel_values', 'input_ids'];
  const wantOut = kind === 'imagereward' ? ['score'] : ['image_embeds', 'text_embeds'];
  const allowedIn = new Set([...wantIn, 'attention_mask']);
  const expected = kind === 'imagereward'
    ? 'inputs pixel_values float32 [B,3,224,224], input_ids int64 [B,35], attention_mask int64 [B,35]; output score [B]'
    : 'inputs pixel_values float32 [B,3,224,224], input_ids int64 [B,77] (attention_mask optional); outputs image_embeds [B,D], text_embeds [B,D] (logit_scale optional)';
  const has = (m: Map<string, TensorMeta>) => [...m.values()].map((v) => `${v.name} ${v.type} ${fmtShape(v.shape)}`).join(', ');
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}. The ${kind} interface is ${expected}; this one has inputs ${has(ins)} and outputs ${has(outs)}`);
  };
  const missingIn = wantIn.filter((n) => !ins.has(n));
  if (missingIn.length) fail(`missing input${missingIn.length > 1 ? 's' : ''} ${missingIn.join(', ')}`);
  const extraIn = [...ins.keys()].filter((n) => !allowedIn.has(n));
  if (extraIn.length) fail(`unexpected input${extraIn.length > 1 ? 's' : ''} ${extraIn.join(', ')} (the loader cannot feed them)`);
  const missingOut = wantOut.filter((n) => !outs.has(n));
  if (missingOut.length) fail(`missing output${missingOut.length > 1 ? 's' : ''} ${missingOut.join(', ')}`);

  const px = ins.get('pixel_values')!;
  if (px.type !== 'float32') fail(`pixel_values is ${px.type}, expected float32`);
  if (px.shape.length !== 4 || (fixed(px.shape[1]) ?? 3) !== 3) fail(`pixel_values has shape ${fmtShape(px.shape)}, expected [B, 3, H, W]`);
  const [h, w] = [fixed(px.shape[2]), fixed(px.shape[3])];
  if (h !== undefined && w !== undefined && h !== w) fail(`pixel_values is ${h}x${w}; only square inputs are supported`);
  const ids = ins.get('input_ids')!;
  if (ids.type !== 'int64' && ids.type !== 'int32') fail(`input_ids is ${ids.type}, expected int64 (or int32)`);
  if (ids.shape.length !== 2) fail(`input_ids has shape ${fmtShape(ids.shape)}, expected [B, L]`);
  const mask = ins.get('attention_mask');
  if (mask && ((mask.type !== 'int64' && mask.type !== 'int32') || mask.shape.length !== 2)) fail(`attention_mask is ${mask.type} ${fmtShape(mask.shape)}, expected int64 [B, L]`);
  const defaultLength = kind === 'imagereward' ? IMAGE_REWARD_TEXT_LENGTH : CLIP_TEXT_LENGTH;
  const textLength = fixed(ids.shape[1]) ?? settings.text_length ?? defaultLength;
  if (mask && fixed(mask.shape[1]) !== undefined && fixed(mask.shape[1]) !== textLength) fail(`attention_mask length ${mask.shape[1]} differs from input_ids length ${textLength}`);
  const batches = [px.shape[0], ids.shape[0], mask?.shape[0]].map(fixed).filter((d): d is number => d !== undefined);
  if (new Set(batches).size > 1) fail(`the inputs disagree on the batch size (${batches.join(', ')})`);
  return { batch: batches[0], imageSize: h ?? w ?? 224, textLength, idType: ids.type as 'int64' | 'int32', hasMask: !!mask };
}

function detectKind(file: string, dir: string, session: Session): OnnxRewardKind {
  const ins = new Set(session.inputNames), outs = new Set(session.outputNames);
  if (ins.has('attention_mask') && outs.has('score')) return 'imagereward';
  if (outs.has('image_embeds') && outs.has('text_embeds')) return /pick/i.test(path.basename(path.resolve(dir))) ? 'pickscore' : 'clip';
  throw new Error(
    `${file}: cannot tell which kind of reward model this is from its inputs (${[...ins].join(', ')}) and outputs ` +
      `(${[...outs].join(', ')}). Expected ImageReward's (pixel_values, input_ids, attention_mask -> score) or ` +
      `PickScore/CLIP's (pixel_values, input_ids -> image_embeds, text_embeds), or a reward.json saying {"kind": ...}`,
  );
}

function tokenizerDir(dir: string, files: string[]): string {
  const sub = path.join(dir, 'tokenizer');
  return files.some((f) => fs.existsSync(path.join(sub, f))) ? sub : dir;
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}

function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`image embeddings have ${a.length} values, text embeddings ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Common to every kind: the session, the geometry, image preprocessing and batching. */
abstract class OnnxRewardBase implements AlignmentScorer, Releasable {
  abstract readonly kind: OnnxRewardKind;
  constructor(
    readonly name: string,
    readonly file: string,
    protected readonly session: Session,
    protected readonly geo: Geometry,
    protected readonly settings: OnnxRewardSettings,
  ) {}

  abstract score(images: ImageBatch, prompts: string[]): Promise<number[]>;

  /** Preprocessed pixels of all images, NHWC at the model's size (clamped to [0, 1] after the bicubic resize). */
  protected pixels(images: ImageBatch): ImageBatch {
    const S = this.geo.imageSize;
    const x = resizeShorterAndCenterCrop(rgbOnly(images), S, 'bicubic');
    if (x !== images) for (let i = 0; i < x.data.length; i++) x.data[i] = Math.min(1, Math.max(0, x.data[i]));
    return x;
  }

  /** Runs the model over the batch in chunks (padding a fixed batch by repeating the last row); `feeds(from, n, size)`
   * builds a chunk's inputs for rows [from, from+n) at batch `size`; `take` receives each chunk's outputs. */
  protected async runChunks(count: number, feeds: (from: number, n: number, size: number) => Record<string, HostTensor>, fetch: string[], take: (from: number, n: number, out: Record<string, HostTensor>) => void): Promise<void> {
    const step = this.geo.batch ?? this.settings.batch_size ?? 8;
    for (let from = 0; from < count; from += step) {
      const n = Math.min(step, count - from);
      const size = this.geo.batch ?? n;
      let out: Record<string, HostTensor>;
      try {
        out = await this.session.run(feeds(from, n, size), fetch);
      } catch (e) {
        throw new Error(`${this.file}: running the ${this.kind} model failed: ${(e as Error).message}`);
      }
      take(from, n, out);
    }
  }

  protected pixelFeed(x: ImageBatch, from: number, n: number, size: number): HostTensor {
    const S = this.geo.imageSize;
    const per = 3 * S * S;
    const data = new Float32Array(size * per);
    const mean = this.settings.image_mean ?? CLIP_MEAN, std = this.settings.image_std ?? CLIP_STD;
    data.set(toNchw(x, { mean, std, from, count: n }));
    for (let i = n; i < size; i++) data.copyWithin(i * per, (n - 1) * per, n * per);
    return { dtype: 'float32', shape: [size, 3, S, S], data };
  }

  protected idFeed(rows: readonly number[][], size: number): HostTensor {
    const L = this.geo.textLength;
    const all = [...rows];
    while (all.length < size) all.push(rows[rows.length - 1]);
    const flat = all.flat();
    return this.geo.idType === 'int32'
      ? { dtype: 'int32', shape: [size, L], data: Int32Array.from(flat) }
      : { dtype: 'int64', shape: [size, L], data: BigInt64Array.from(flat, (v) => BigInt(v)) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** ImageReward: (image, prompt) -> normalized reward. */
export class ImageRewardOnnx extends OnnxRewardBase {
  readonly kind = 'imagereward' as const;
  constructor(name: string, file: string, session: Session, geo: Geometry, settings: OnnxRewardSettings, readonly tokenizer: BertTokenizer) {
    super(name, file, session, geo, settings);
  }

  async score(images: ImageBatch, prompts: string[]): Promise<number[]> {
    const x = this.pixels(images);
    const L = this.geo.textLength;
    const enc = Array.from({ length: images.count }, (_, i) => this.tokenizer.encode(promptFor(prompts, images.count, i), L));
    const mean = this.settings.score_normalized ? 0 : this.settings.score_mean ?? IMAGE_REWARD_MEAN;
    const std = this.settings.score_normalized ? 1 : this.settings.score_std ?? IMAGE_REWARD_STD;
    const scores = new Array<number>(images.count);
    await this.runChunks(images.count, (from, n, size) => ({
      pixel_values: this.pixelFeed(x, from, n, size),
      input_ids: this.idFeed(enc.slice(from, from + n).map((e) => e.inputIds), size),
      attention_mask: this.idFeed(enc.slice(from, from + n).map((e) => e.attentionMask), size),
    }), ['score'], (from, n, out) => {
      const s = out.score;
      if (s.data.length !== (this.geo.batch ?? n)) throw new Error(`${this.file}: output score has shape [${s.shape.join(', ')}], expected one value per image ([B] or [B, 1])`);
      for (let i = 0; i < n; i++) scores[from + i] = (Number(s.data[i]) - mean) / std;
    });
    return scores;
  }
}

/** PickScore (exp(logit_scale) * cosine) or CLIP (cosine; also an image embedder). */
export class ClipOnnx extends OnnxRewardBase implements ImageEmbedder {
  constructor(
    name: string,
    file: string,
    session: Session,
    geo: Geometry,
    settings: OnnxRewardSettings,
    readonly tokenizer: ClipTokenizer,
    readonly kind: 'pickscore' | 'clip',
  ) {
    super(name, file, session, geo, settings);
    if (kind === 'pickscore' && !session.outputNames.includes('logit_scale') && settings.logit_scale === undefined)
      throw new Error(`${file}: a PickScore model needs a logit_scale output or a "logit_scale" setting (reward.json or ONNX metadata) holding the log temperature`);
  }

  private async run(images: ImageBatch, texts: string[]): Promise<{ img: Float32Array[]; txt: Float32Array[]; logitScale?: number }> {
    const x = this.pixels(images);
    const L = this.geo.textLength;
    const ids = texts.map((t) => this.tokenizer.encodePadded(t, { length: L }));
    const masks = ids.map((row) => {
      const eos = row.indexOf(this.tokenizer.eosId);
      return row.map((_, j) => (j <= eos ? 1 : 0));
    });
    const fetch = ['image_embeds', 'text_embeds', ...(this.session.outputNames.includes('logit_scale') ? ['logit_scale'] : [])];
    const img: Float32Array[] = [], txt: Float32Array[] = [];
    let logitScale = this.settings.logit_scale;
    await this.runChunks(images.count, (from, n, size) => ({
      pixel_values: this.pixelFeed(x, from, n, size),
      input_ids: this.idFeed(ids.slice(from, from + n), size),
      ...(this.geo.hasMask ? { attention_mask: this.idFeed(masks.slice(from, from + n), size) } : {}),
    }), fetch, (_from, n, out) => {
      for (const [k, list] of [['image_embeds', img], ['text_embeds', txt]] as const) {
        const t = out[k];
        const d = t.shape[t.shape.length - 1];
        if (t.shape.length !== 2 || t.data.length !== (this.geo.batch ?? n) * d) throw new Error(`${this.file}: output ${k} has shape [${t.shape.join(', ')}], expected [B, D]`);
        for (let i = 0; i < n; i++) list.push(unit(Float32Array.from((t.data as Float32Array).subarray(i * d, (i + 1) * d))));
      }
      if (out.logit_scale) logitScale = Number(out.logit_scale.data[0]);
    });
    return { img, txt, logitScale };
  }

  async score(images: ImageBatch, prompts: string[]): Promise<number[]> {
    const texts = Array.from({ length: images.count }, (_, i) => promptFor(prompts, images.count, i));
    const { img, txt, logitScale } = await this.run(images, texts);
    const scale = this.kind === 'pickscore' ? Math.exp(logitScale!) : 1;
    return img.map((e, i) => scale * dot(e, txt[i]));
  }

  /** Unit image embeddings (CLIP-I; the text input is the empty prompt). */
  async embed(images: ImageBatch): Promise<Float32Array[]> {
    return (await this.run(images, Array(images.count).fill(''))).img;
  }
}

export type OnnxRewardModel = ImageRewardOnnx | ClipOnnx;

/** Loads a reward model folder (see the header for the layout and the interface each kind must have). */
export async function loadOnnxReward(dir: string, o: SessionOptions & { name?: string } = {}): Promise<OnnxRewardModel> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no such reward model folder (expected <folder>/model.onnx)`);
  const fromJson = readSettings(dir);
  const file = path.join(dir, fromJson.model ?? 'model.onnx');
  if (!fs.existsSync(file)) throw new Error(`${file}: missing; a reward model folder holds model.onnx (or the file reward.json's "model" names)`);
  const meta = settingsFromMetadata(readOnnxMetadata(file));
  if (meta.kind && !ONNX_REWARD_KINDS.includes(meta.kind)) throw new Error(`${file}: metadata kind '${meta.kind}' is not one of ${ONNX_REWARD_KINDS.join(', ')}`);
  const settings: OnnxRewardSettings = { ...meta, ...fromJson };
  let session: Session;
  try {
    session = await Session.fromFile(file, o);
  } catch (e) {
    throw new Error(`${file}: onnxruntime cannot load it: ${(e as Error).message}`);
  }
  try {
    const kind = settings.kind ?? detectKind(file, dir, session);
    const geo = checkInterface(file, kind, session, settings);
    const name = o.name ?? path.basename(path.resolve(dir));
    if (kind === 'imagereward') {
      const tok = BertTokenizer.fromFolder(tokenizerDir(dir, ['vocab.txt']));
      return new ImageRewardOnnx(name, file, session, geo, settings, tok);
    }
    const tdir = tokenizerDir(dir, ['vocab.json', 'tokenizer.json']);
    let tok: ClipTokenizer;
    try {
      tok = ClipTokenizer.fromFolder(tdir);
    } catch (e) {
      throw new Error(`${(e as Error).message} (a ${kind} model folder needs CLIP tokenizer files beside model.onnx or in tokenizer/)`);
    }
    return new ClipOnnx(name, file, session, geo, settings, tok, kind);
  } catch (e) {
    await session.release();
    throw e;
  }
}
