// What the add-node search lists: every node type from /object_info, and the frontend-only ones.
import { inputsOf, outputsOf } from '../../src/runtime/graph/input-schema.js';
import { FRONTEND_NODE_TYPES } from './frontend-nodes.js';
import { schemaOf } from './node-factory.js';
import type { SearchItem } from './node-search.js';

export function searchItems(): SearchItem[] {
  const items: SearchItem[] = [...schemaOf].map(([type, entry]) => ({
    type,
    title: entry.display_name || type,
    category: entry.category ?? '',
    description: entry.description ?? '',
    inputTypes: inputsOf(entry).map((i) => i.type),
    outputTypes: outputsOf(entry).map((o) => o.type),
  }));
  for (const f of FRONTEND_NODE_TYPES)
    items.push({ type: f.type, title: f.title, category: 'utils', description: f.description, inputTypes: f.type === 'Reroute' ? ['*'] : [], outputTypes: f.type === 'Note' ? [] : ['*'] });
  return items;
}
