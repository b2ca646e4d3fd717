// The editor's files (web/dist) at /, or, while the editor is not built, a page that says so.
import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { PACKAGE_ROOT } from '../runtime/graph/folders.js';

export const DEFAULT_WEB_ROOT = path.join(PACKAGE_ROOT, 'web', 'dist');

const NOT_BUILT = `<!doctype html>
<html><head><meta charset="utf-8"><title>instructbooth</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>instructbooth server</h1>
<p>The editor is not built (there is no <code>web/dist</code> folder), so there is nothing to show here yet.</p>
<p>The API works: see <code>docs/api.md</code>, e.g. <a href="/api/object_info">/api/object_info</a>,
<a href="/api/queue">/api/queue</a>, <a href="/api/history">/api/history</a>; WebSocket at <code>/ws?clientId=...</code>.</p>
</body></html>
`;

export function staticRoutes(webRoot = DEFAULT_WEB_ROOT): Router {
  const r = Router();
  r.use(express.static(webRoot, { index: 'index.html', fallthrough: true, dotfiles: 'ignore' }));
  r.get('/', (_req, res) => {
    // Checked per request: building the editor while the server runs needs no restart.
    const index = path.join(webRoot, 'index.html');
    if (fs.existsSync(index)) return void res.sendFile(index, { headers: { 'Cache-Control': 'no-store' } });
    res.type('html').send(NOT_BUILT);
  });
  return r;
}
