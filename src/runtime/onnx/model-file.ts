// ONNX files on disk, with weights as external data in a side file when asked or when the model is too big for one
// protobuf (onnxruntime refuses protobufs over 2 GiB, and one Node write cannot exceed 2^31-1 bytes). The side file
// is written tensor by tensor and read back range by range, so neither direction holds two copies of the weights.
import fs from 'node:fs';
import path from 'node:path';
import type { Graph } from './ir.js';
import { decodeModel, encodeModel, fromModelProto, toModelProto } from './graph-proto.js';
import { bytesOf, externalTensorProto } from './tensor-proto.js';

/** Above this many bytes of weights a model is always saved with external data. */
const PROTOBUF_LIMIT = 1.8 * 2 ** 30;
/** Tensors smaller than this stay inside the protobuf. */
const SMALL = 1024;
/** onnxruntime can memory-map external data aligned to pages. */
const ALIGN = 4096;

export interface SaveModelOptions {
  /** 'auto' (default): external only when the weights exceed what one protobuf may hold. */
  externalData?: boolean | 'auto';
}

export function saveModel(graph: Graph, file: string, o: SaveModelOptions = {}): { dataFile?: string } {
  let total = 0;
  for (const t of graph.initializers.values()) total += t.data.byteLength;
  const external = o.externalData === true || ((o.externalData ?? 'auto') === 'auto' && total > PROTOBUF_LIMIT);
  if (!external) {
    fs.writeFileSync(file, encodeModel(toModelProto(graph)));
    return {};
  }
  const dataFile = `${file}.data`;
  const location = path.basename(dataFile);
  const fd = fs.openSync(dataFile, 'w');
  let offset = 0;
  try {
    const model = toModelProto(graph, {
      initializer: (name, t) => {
        if (t.data.byteLength < SMALL) return undefined;
        offset = Math.ceil(offset / ALIGN) * ALIGN;
        writeAll(fd, bytesOf(t.data), offset);
        const proto = externalTensorProto(name, t, location, offset);
        offset += t.data.byteLength;
        return proto;
      },
    });
    fs.writeFileSync(file, encodeModel(model));
  } finally {
    fs.closeSync(fd);
  }
  return { dataFile };
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  const CHUNK = 1 << 30;
  for (let done = 0; done < bytes.length; ) {
    const n = fs.writeSync(fd, bytes, done, Math.min(CHUNK, bytes.length - done), position + done);
    done += n;
  }
}

/** Loads an ONNX file into a Graph, reading external tensors from their side files by byte range. */
export function loadModel(file: string): Graph {
  const model = decodeModel(fs.readFileSync(file));
  const dir = path.dirname(file);
  const fds = new Map<string, number>();
  try {
    return fromModelProto(model, (location, offset, length) => {
      const resolved = path.resolve(dir, location);
      if (path.relative(dir, resolved).startsWith('..')) throw new Error(`external data '${location}' of ${file} points outside its folder`);
      let fd = fds.get(resolved);
      if (fd === undefined) {
        if (!fs.existsSync(resolved)) throw new Error(`${file}: external data file '${location}' is missing`);
        fd = fs.openSync(resolved, 'r');
        fds.set(resolved, fd);
      }
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) throw new Error(`${file}: external data '${location}' ends before byte ${offset + length}`);
        done += n;
      }
      return buf;
    });
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}
