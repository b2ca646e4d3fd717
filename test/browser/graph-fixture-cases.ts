// The graph tests' workflow fixtures with the prompt each must give: every <name>.v04.json / <name>.v1.json with its
// <name>.prompt.json. The browser tests check the editor against the same pairs as the server's tests.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './fake-server.js';

export const GRAPH_FIXTURES_DIR = join(REPO_ROOT, 'test', 'graph', 'fixtures');

/** [workflow file, expected prompt file] pairs, by file name. */
export function graphFixtureCases(): [string, string][] {
  return readdirSync(GRAPH_FIXTURES_DIR)
    .filter((f) => /\.(v04|v1)\.json$/.test(f))
    .sort()
    .map((f) => [f, f.replace(/\.(v04|v1)\.json$/, '.prompt.json')]);
}
