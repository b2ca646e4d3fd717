// GET /view?filename=&type=&subfolder=[&preview=webp;90|jpeg;80][&channel=rgb|a|rgba]: a file from the input, output
// or temp folder, as ComfyUI serves it. Traversal and absolute names are 400, a subfolder leading out 403, an unknown
// type 400, a missing file 404. Only images are shown inline; anything else downloads as octet-stream.
import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS } from '../../runtime/engine/image-io.js';
import type { ServerContext } from '../context.js';
import { checkFileName, folderOfType, realPathInside, resolveSubfolder, splitAnnotation } from '../folder-paths.js';
import { HttpError } from '../http-errors.js';
import { queryString } from '../query.js';

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jfif': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
};

function disposition(filename: string, attachment: boolean): string {
  const safe = filename.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '_');
  return `${attachment ? 'attachment; ' : ''}filename="${safe}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function viewRoutes(ctx: ServerContext): Router {
  const r = Router();

  r.get('/view', async (req, res, next) => {
    const raw = queryString(req, 'filename');
    if (raw === undefined) throw new HttpError(400, 'invalid_filename', "query parameter 'filename' is required");
    const annotated = splitAnnotation(raw);
    if (annotated.name.startsWith('/') || annotated.name.startsWith('\\') || annotated.name.includes('..'))
      throw new HttpError(400, 'invalid_filename', `file name ${JSON.stringify(raw)} is not allowed: no absolute paths or ".."`);
    const { root } = folderOfType(ctx.folders, annotated.type ?? queryString(req, 'type') ?? 'output');
    const dir = resolveSubfolder(root, queryString(req, 'subfolder') ?? '', 403);
    // ComfyUI keeps only the last part of the name; the folder comes from `subfolder`.
    const filename = checkFileName(path.basename(annotated.name.replaceAll('\\', '/')));
    const file = path.join(dir, filename);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new HttpError(404, 'not_found', `no file ${JSON.stringify(raw)} there`);
    if (realPathInside(root, file) === undefined) throw new HttpError(403, 'forbidden', `${JSON.stringify(raw)} leads outside the folder through a symlink`);

    const preview = queryString(req, 'preview');
    const channelParam = queryString(req, 'channel') ?? '';
    const channel = channelParam || 'rgba';
    if (preview !== undefined || channel === 'rgb' || channel === 'a') {
      const image = sharp(file, { limitInputPixels: DEFAULT_MAX_PIXELS, failOn: 'error' });
      let out: Buffer;
      let type: string;
      try {
        if (preview !== undefined) {
          const parts = preview.split(';');
          let format = parts[0];
          if ((format !== 'webp' && format !== 'jpeg') || channelParam.includes('a')) format = 'webp';
          const q = parts.at(-1)!;
          const quality = /^\d+$/.test(q) ? Math.min(100, Math.max(1, Number(q))) : 90;
          const base = format === 'jpeg' || channel === 'rgb' ? image.flatten({ background: '#000' }).removeAlpha() : image;
          out = format === 'jpeg' ? await base.jpeg({ quality }).toBuffer() : await base.webp({ quality }).toBuffer();
          type = `image/${format}`;
        } else if (channel === 'rgb') {
          out = await image.removeAlpha().png().toBuffer();
          type = 'image/png';
        } else {
          // The alpha channel alone, as the alpha of a black RGBA image (ComfyUI's channel=a).
          const meta = await image.metadata();
          const alpha = meta.hasAlpha ? await sharp(file, { limitInputPixels: DEFAULT_MAX_PIXELS }).extractChannel('alpha').raw().toBuffer({ resolveWithObject: true }) : undefined;
          const w = alpha?.info.width ?? meta.width ?? 1;
          const h = alpha?.info.height ?? meta.height ?? 1;
          const rgba = Buffer.alloc(w * h * 4);
          for (let i = 0; i < w * h; i++) rgba[i * 4 + 3] = alpha ? alpha.data[i] : 255;
          out = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
          type = 'image/png';
        }
      } catch (e) {
        throw new HttpError(400, 'invalid_image', `cannot convert ${JSON.stringify(raw)}: ${(e as Error).message}`);
      }
      res.setHeader('Content-Type', type);
      res.setHeader('Content-Disposition', disposition(filename, false));
      res.setHeader('X-Content-Type-Options', 'nosniff');
      return void res.send(out);
    }

    const imageType = IMAGE_TYPES[path.extname(filename).toLowerCase()];
    res.sendFile(
      file,
      {
        dotfiles: 'allow',
        headers: {
          'Content-Type': imageType ?? 'application/octet-stream',
          'Content-Disposition': disposition(filename, !imageType),
          'X-Content-Type-Options': 'nosniff',
        },
      },
      (err) => {
        if (err) next(err);
      },
    );
  });

  return r;
}
