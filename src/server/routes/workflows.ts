// GET /workflows (names of the example workflow files) and /workflows/{name} (one of them): the project's addition,
// so the editor can offer the examples in workflows/ with one click.
import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { sendError } from '../http-errors.js';

const NAME = /^[\w][\w .()-]*\.json$/;

export function workflowsRoutes(dir: string): Router {
  const r = Router();

  r.get('/workflows', (_req, res) => {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && NAME.test(e.name)).map((e) => e.name);
    } catch {
      // no examples folder: no examples
    }
    res.json(names.sort());
  });

  r.get('/workflows/:name', (req, res) => {
    const name = req.params.name;
    const file = path.join(dir, name);
    if (!NAME.test(name) || name.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile())
      return sendError(res, 404, 'not_found', `no example workflow ${JSON.stringify(name)}; GET /api/workflows lists them`);
    res.type('application/json').send(fs.readFileSync(file));
  });

  return r;
}
