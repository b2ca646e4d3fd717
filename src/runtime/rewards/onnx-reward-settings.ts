// How a user's exported reward model describes itself: its kind and settings, from reward.json beside it and from
// the ONNX file's metadata_props (read without decoding the graph), checked with errors that name the file and key.
// The interface each kind must have is documented in onnx-reward.ts.
//
// Settings (reward.json keys; the same keys as ONNX metadata_props entries are read too, reward.json wins):
//   kind             imagereward, pickscore or clip. Without it: attention_mask + a `score` output -> imagereward; image_embeds +
//                    text_embeds outputs -> pickscore if the folder's name contains "pick", else clip.
//   model            the ONNX file name (default model.onnx)
//   score_normalized ImageReward: true if `score` is already (raw - mean) / std (default false)
//   score_mean, score_std   ImageReward's normalization constants (defaults below)
//   logit_scale      PickScore/CLIP: the log temperature when the model has no logit_scale output
//   text_length      tokens per prompt when the model's shape leaves it symbolic (35 / 77)
//   batch_size       images per run when the batch dimension is symbolic (default 8)
//   image_mean, image_std   per-channel normalization (defaults: CLIP's)
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from '../onnx/proto.js';

export type OnnxRewardKind = 'imagereward' | 'pickscore' | 'clip';
export const ONNX_REWARD_KINDS: readonly OnnxRewardKind[] = ['imagereward', 'pickscore', 'clip'];

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
/** ImageReward's normalization of its MLP output (ImageReward.py: mean, std). */
export const IMAGE_REWARD_MEAN = 0.16717362830052426;
export const IMAGE_REWARD_STD = 1.0333394966054072;
export const IMAGE_REWARD_TEXT_LENGTH = 35;
export const CLIP_TEXT_LENGTH = 77;

export interface OnnxRewardSettings {
  kind?: OnnxRewardKind;
  model?: string;
  score_normalized?: boolean;
  score_mean?: number;
  score_std?: number;
  logit_scale?: number;
  text_length?: number;
  batch_size?: number;
  image_mean?: number[];
  image_std?: number[];
}

/** Top-level ModelProto field 14 (metadata_props), read without decoding the graph (a file may hold gigabytes). */
export function readOnnxMetadata(file: string): Record<string, string> {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  const out: Record<string, string> = {};
  try {
    const head = Buffer.alloc(20);
    let pos = 0;
    const varint = (buf: Buffer, at: number): [number, number] => {
      let v = 0, mul = 1, i = at;
      for (;;) {
        if (i >= buf.length) throw new Error('truncated varint');
        const byte = buf[i++];
        v += (byte & 0x7f) * mul;
        if (!(byte & 0x80)) return [v, i - at];
        mul *= 128;
      }
    };
    while (pos < size) {
      const n = fs.readSync(fd, head, 0, head.length, pos);
      const [tag, tl] = varint(head.subarray(0, n), 0);
      const field = Math.floor(tag / 8), wire = tag % 8;
      pos += tl;
      if (wire === 0) pos += varint(head.subarray(0, n), tl)[1];
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const [len, ll] = varint(head.subarray(0, n), tl);
        pos += ll;
        if (field === 14) {
          const buf = Buffer.alloc(len);
          fs.readSync(fd, buf, 0, len, pos);
          const e = onnx.StringStringEntryProto.decode(buf);
          if (e.key) out[e.key] = e.value ?? '';
        }
        pos += len;
      } else throw new Error(`unexpected protobuf wire type ${wire}`);
    }
  } catch (e) {
    throw new Error(`${file}: not a readable ONNX model (${(e as Error).message})`);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export function settingsFromMetadata(meta: Record<string, string>): OnnxRewardSettings {
  const s: OnnxRewardSettings = {};
  const numOf = (k: string) => (meta[k] !== undefined && Number.isFinite(Number(meta[k])) ? Number(meta[k]) : undefined);
  if (meta.kind) s.kind = meta.kind as OnnxRewardKind;
  if (meta.score_normalized !== undefined) s.score_normalized = meta.score_normalized === 'true' || meta.score_normalized === '1';
  for (const k of ['score_mean', 'score_std', 'logit_scale', 'text_length', 'batch_size'] as const) {
    const v = numOf(k);
    if (v !== undefined) s[k] = v;
  }
  return s;
}

export function readSettings(dir: string): OnnxRewardSettings {
  const file = path.join(dir, 'reward.json');
  if (!fs.existsSync(file)) return {};
  let j: unknown;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error(`${file}: expected a JSON object like {"kind": "imagereward"}`);
  const s = j as Record<string, unknown>;
  const check = (k: string, ok: (v: unknown) => boolean, what: string) => {
    if (s[k] !== undefined && !ok(s[k])) throw new Error(`${file}: '${k}' must be ${what}, got ${JSON.stringify(s[k])}`);
  };
  check('kind', (v) => ONNX_REWARD_KINDS.includes(v as OnnxRewardKind), ONNX_REWARD_KINDS.map((k) => `"${k}"`).join(', '));
  check('model', (v) => typeof v === 'string' && v.length > 0, 'a file name');
  check('score_normalized', (v) => typeof v === 'boolean', 'true or false');
  for (const k of ['score_mean', 'logit_scale']) check(k, (v) => typeof v === 'number' && Number.isFinite(v), 'a number');
  check('score_std', (v) => typeof v === 'number' && v > 0, 'a positive number');
  for (const k of ['text_length', 'batch_size']) check(k, (v) => Number.isInteger(v) && (v as number) >= 1, 'a positive integer');
  for (const k of ['image_mean', 'image_std'])
    check(k, (v) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x)), 'three numbers');
  return s as OnnxRewardSettings;
}
