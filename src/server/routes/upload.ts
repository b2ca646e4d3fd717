// POST /upload/image (multipart: image, type, subfolder, overwrite) -> {name, subfolder, type}, as ComfyUI answers.
// The file must be an image: its header is decoded and its size checked against the decompression-bomb limit
// before anything is written. A name in use gets " (1)", " (2)"... unless the bytes are the same (then the file
// is reused) or overwrite is "true"/"1".
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import multer from 'multer';
import sharp, { type Metadata } from 'sharp';
import { DEFAULT_MAX_PIXELS, isImageFileName } from '../../runtime/engine/image-io.js';
import type { ServerContext } from '../context.js';
import { checkFileName, folderOfType, realPathInside, resolveSubfolder, subfolderText } from '../folder-paths.js';
import { HttpError } from '../http-errors.js';

/** Formats an upload may be in (no SVG: it can carry scripts). */
const UPLOAD_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif', 'heif']);

/** Why `data` is not an image we accept, or undefined: header decoded, canvas size checked, nothing allocated. */
export async function imageProblem(data: Buffer, maxPixels = DEFAULT_MAX_PIXELS): Promise<{ type: string; message: string } | undefined> {
  let meta: Metadata;
  try {
    meta = await sharp(data, { limitInputPixels: false }).metadata();
  } catch {
    return { type: 'invalid_image', message: 'the file is not an image in a supported format (PNG, JPEG, WebP, GIF, TIFF, AVIF)' };
  }
  if (!meta.format || !UPLOAD_FORMATS.has(meta.format)) return { type: 'invalid_image', message: `images in ${meta.format ?? 'this'} format are not accepted` };
  const w = meta.width ?? 0;
  const h = meta.pageHeight ?? meta.height ?? 0;
  const frames = Math.max(1, meta.pages ?? 1);
  if (w <= 0 || h <= 0) return { type: 'invalid_image', message: 'the image gives no size' };
  if (w * h * frames > maxPixels)
    return { type: 'image_too_large', message: `the image is ${w}x${h}${frames > 1 ? `x${frames} frames` : ''}, over the limit of ${maxPixels} pixels (a decompression-bomb guard)` };
  return undefined;
}

function sameBytes(file: string, data: Buffer): boolean {
  try {
    const st = fs.statSync(file);
    if (st.size !== data.length) return false;
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    return digest(fs.readFileSync(file)) === digest(data);
  } catch {
    return false;
  }
}

export function uploadRoutes(ctx: ServerContext): Router {
  const r = Router();
  const parse = multer({
    storage: multer.memoryStorage(),
    // The name exactly as sent (UTF-8, folders kept) so that "../x.png" is refused, not quietly shortened.
    preservePath: true,
    defParamCharset: 'utf8',
    limits: { fileSize: ctx.maxUploadBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 30 },
  }).single('image');

  // multer's errors (too large, unexpected field) as JSON 4xx.
  const upload: RequestHandler = (req, res, next) => {
    if (!req.is('multipart/form-data')) return next(new HttpError(400, 'invalid_body', 'POST /upload/image takes multipart/form-data with an "image" file field'));
    parse(req, res, (err: unknown) => {
      if (!err) return next();
      if (err instanceof multer.MulterError) {
        const tooLarge = err.code === 'LIMIT_FILE_SIZE';
        return next(new HttpError(tooLarge ? 413 : 400, tooLarge ? 'payload_too_large' : 'invalid_upload', tooLarge ? `the file is larger than the upload limit of ${ctx.maxUploadBytes} bytes` : `${err.message}${err.field ? ` (field '${err.field}')` : ''}`));
      }
      next(new HttpError(400, 'invalid_upload', `malformed multipart body: ${(err as Error)?.message ?? String(err)}`));
    });
  };

  r.post('/upload/image', upload, async (req, res) => {
    const file = req.file;
    if (!file) throw new HttpError(400, 'invalid_upload', 'no "image" file in the form');
    const fields = (req.body ?? {}) as Record<string, unknown>;
    const field = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : undefined);
    const { type, root } = folderOfType(ctx.folders, field('type') || 'input');
    const subfolder = field('subfolder') ?? '';
    const dir = resolveSubfolder(root, subfolder, 400);
    const name = checkFileName(file.originalname);
    if (!isImageFileName(name)) throw new HttpError(400, 'invalid_filename', `${JSON.stringify(name)} does not have an image file extension (.png, .jpg, .webp, ...)`);
    const problem = await imageProblem(file.buffer);
    if (problem) throw new HttpError(400, problem.type, problem.message);

    // Where the folder and each candidate file really are (symlinks resolved) is checked before anything is created,
    // hashed or written: a symlink leading out of the folder is refused (403), as /view refuses to read through it.
    const outside = (what: string) => new HttpError(403, 'forbidden', `${what} leads outside the ${type} folder through a symlink; uploads are not written there`);
    if (realPathInside(root, dir) === undefined) throw outside(`subfolder ${JSON.stringify(subfolder)}`);
    fs.mkdirSync(dir, { recursive: true });
    const realDir = realPathInside(root, dir);
    if (realDir === undefined) throw outside(`subfolder ${JSON.stringify(subfolder)}`);
    const overwrite = field('overwrite') === 'true' || field('overwrite') === '1';
    const { name: stem, ext } = path.parse(name);
    let chosen = name;
    for (let i = 1; ; i++) {
      const target = realPathInside(root, path.join(realDir, chosen));
      if (target === undefined) throw outside(JSON.stringify(chosen));
      if (overwrite) {
        // The real path, opened without following a symlink that might have appeared since.
        const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0));
        try {
          fs.writeFileSync(fd, file.buffer);
        } finally {
          fs.closeSync(fd);
        }
        break;
      }
      if (sameBytes(target, file.buffer)) break; // the same file uploaded again: reuse it
      try {
        fs.writeFileSync(target, file.buffer, { flag: 'wx' }); // O_EXCL: never follows a symlink
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > 10_000) throw e;
      }
      chosen = `${stem} (${i})${ext}`;
    }
    res.json({ name: chosen, subfolder: subfolder === '' ? '' : subfolderText(root, dir), type });
  });

  return r;
}
