// GET /history?max_items=&offset= and /history/{id} (ComfyUI's entries, oldest first), POST /history {clear, delete}.
import { Router } from 'express';
import type { ServerContext } from '../context.js';
import type { HistoryEntry } from '../history-entry.js';
import { queryInt } from '../query.js';
import { readClearDelete } from './queue.js';

export function historyRoutes(ctx: ServerContext): Router {
  const r = Router();

  r.get('/history', (req, res) => {
    const maxItems = queryInt(req, 'max_items', { min: 0 });
    let offset = queryInt(req, 'offset') ?? -1;
    const total = ctx.store.historySize();
    // ComfyUI: no offset with max_items means the newest max_items entries.
    if (offset < 0 && maxItems !== undefined) offset = total - maxItems;
    offset = Math.max(0, offset);
    const out: Record<string, HistoryEntry> = Object.fromEntries(ctx.store.historyPage(offset, maxItems ?? -1));
    res.json(out);
  });

  r.get('/history/:id', (req, res) => {
    const found = ctx.store.historyEntry(req.params.id);
    res.json(found ? { [req.params.id]: found.entry } : {});
  });

  r.post('/history', (req, res) => {
    const { clear, ids } = readClearDelete(req.body);
    if (clear) ctx.store.clearHistory();
    for (const id of ids) ctx.store.deleteHistory(id);
    res.json({});
  });

  return r;
}
