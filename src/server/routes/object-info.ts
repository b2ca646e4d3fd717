// GET /object_info and /object_info/{class}: the registry's schemas in ComfyUI's shape, computed per request so
// combos listing files (LoadImage's images) show new uploads.
import { Router } from 'express';
import { type ObjectInfoEntry, objectInfoOf } from '../../runtime/graph/registry.js';
import type { ServerContext } from '../context.js';

export function objectInfoRoutes(ctx: ServerContext): Router {
  const r = Router();

  const info = (type: string): ObjectInfoEntry | undefined => {
    const def = ctx.registry.get(type);
    if (!def) return undefined;
    try {
      return objectInfoOf(def, ctx.folders);
    } catch (e) {
      // One broken schema (a combo whose listing throws) must not hide every other node: ComfyUI skips it too.
      ctx.log(`object_info: node ${type} failed: ${(e as Error).message}`);
      return undefined;
    }
  };

  r.get('/object_info', (_req, res) => {
    const out: Record<string, ObjectInfoEntry> = {};
    for (const type of ctx.registry.types()) {
      const entry = info(type);
      if (entry) out[type] = entry;
    }
    res.json(out);
  });

  r.get('/object_info/:cls', (req, res) => {
    const entry = info(req.params.cls);
    res.json(entry ? { [req.params.cls]: entry } : {});
  });

  return r;
}
