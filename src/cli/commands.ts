// The CLI's commands, with the process (argv, streams, exit, signals) passed in so tests drive them directly.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRegistry } from '../nodes/index.js';
import { deviceDescription } from '../runtime/engine/session.js';
import { PromptValidationError } from '../runtime/graph/errors.js';
import { Executor } from '../runtime/graph/executor.js';
import { defaultFolders, ensureFolders } from '../runtime/graph/folders.js';
import type { Folders } from '../runtime/graph/node-api.js';
import { titleOf } from '../runtime/graph/prompt.js';
import type { NodeRegistry } from '../runtime/graph/registry.js';
import { validatePrompt } from '../runtime/graph/validate.js';
import { WorkflowFormatError } from '../runtime/graph/workflow-ui.js';
import { applySet, InputFileError, loadWorkflowFile, UsageError } from './load-workflow.js';
import { jsonView, plainView, ttyView } from './progress-view.js';

export interface CliIo {
  stdout: { write(s: string): void; isTTY?: boolean };
  stderr: { write(s: string): void };
  /** Cancels the running job (the CLI wires SIGINT to it). */
  onInterrupt(handler: () => void): void;
  cwd: string;
  /** The node types available (default: the built-in nodes); tests pass their own. */
  registry?: NodeRegistry;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, invalid: 3, interrupted: 130 } as const;

const USAGE = `usage:
  instructbooth run <workflow.json> [--set <node id or title>.<input>=<value>]... [--out <dir>] [--json]
  instructbooth validate <workflow.json> [--json]
  instructbooth nodes [--json]
  instructbooth serve [--host 127.0.0.1] [--port 8188] [--token <secret>] [--insecure] [--allow-host <name>]... [--data <dir>]
Folders: ./input, ./output, ./temp and ./models under the working directory (INSTRUCTBOOTH_<NAME>_DIR overrides).`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run': return await runCommand(rest, io);
      case 'validate': return validateCommand(rest, io);
      case 'nodes': return nodesCommand(rest, io);
      case 'serve': return await (await import('../server/index.js')).serveCommand(rest, io); // loaded only to serve
      case undefined: case '-h': case '--help': case 'help':
        io.stdout.write(`${USAGE}\n`);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof InputFileError) {
      io.stderr.write(`instructbooth: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`instructbooth: ${(e as Error).message}\n${USAGE}\n`);
      return EXIT.usage;
    }
    if (e instanceof WorkflowFormatError || e instanceof PromptValidationError) {
      io.stderr.write(`instructbooth: invalid workflow: ${e.message}\n`);
      return EXIT.invalid;
    }
    throw e;
  }
}

function foldersFor(io: CliIo, out?: string): Folders {
  return defaultFolders(io.cwd, out ? { output: path.resolve(io.cwd, out) } : {});
}

async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { set: { type: 'string', multiple: true }, out: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('run takes one workflow file');
  const folders = foldersFor(io, values.out);
  const registry = io.registry ?? createRegistry();
  const { prompt: loaded, workflow } = loadWorkflowFile(path.resolve(io.cwd, positionals[0]), registry, folders);
  for (const s of values.set ?? []) applySet(loaded, s);
  const { prompt, outputs } = validatePrompt(loaded, registry, folders);
  ensureFolders(folders);

  const view = values.json ? jsonView((s) => io.stdout.write(s)) : io.stdout.isTTY ? ttyView(prompt, (s) => io.stdout.write(s)) : plainView(prompt, (s) => io.stdout.write(s));
  const abort = new AbortController();
  io.onInterrupt(() => abort.abort());
  // What sessions with device 'auto' run on (ComfyUI prints its device at start too).
  if (!values.json) io.stderr.write(`device: ${deviceDescription('auto').text}\n`);
  const summary = await new Executor(registry, folders).run(prompt, {
    promptId: randomUUID(), signal: abort.signal, onEvent: view, outputs,
    seed: values.seed === undefined ? 0 : Number(values.seed), pngInfo: { prompt, extraPngInfo: workflow === undefined ? undefined : { workflow } },
  });
  if (summary.status === 'success') {
    if (!values.json) io.stdout.write(`done: ${summary.executed.length} node(s) ran, ${summary.cached.length} cached; outputs in ${folders.output}\n`);
    return EXIT.ok;
  }
  if (summary.status === 'interrupted') {
    const at = summary.interrupted?.node;
    io.stderr.write(`interrupted${at ? ` at ${titleOf(prompt, at)} (node ${at})` : ' before any node ran'}; finished nodes stay cached for this process only\n`);
    return EXIT.interrupted;
  }
  const err = summary.error!;
  io.stderr.write(`error in ${titleOf(prompt, err.node)} (node ${err.node}, ${err.nodeType}): ${err.message}\n`);
  return EXIT.failed;
}

function validateCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('validate takes one workflow file');
  const folders = foldersFor(io);
  const registry = io.registry ?? createRegistry();
  try {
    const { prompt } = loadWorkflowFile(path.resolve(io.cwd, positionals[0]), registry, folders);
    const { outputs } = validatePrompt(prompt, registry, folders);
    io.stdout.write(values.json ? `${JSON.stringify({ ok: true, outputs })}\n` : `valid: ${Object.keys(prompt).length} nodes, outputs ${outputs.join(', ')}\n`);
    return EXIT.ok;
  } catch (e) {
    if (values.json && e instanceof PromptValidationError) {
      io.stdout.write(`${JSON.stringify({ ok: false, ...e.toJSON() })}\n`);
      return EXIT.invalid;
    }
    throw e;
  }
}

function nodesCommand(args: string[], io: CliIo): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  const registry = io.registry ?? createRegistry();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(registry.objectInfo(foldersFor(io)), null, 2)}\n`);
    return EXIT.ok;
  }
  const byCategory = new Map<string, string[]>();
  for (const d of registry.all()) byCategory.set(d.category, [...(byCategory.get(d.category) ?? []), d.type]);
  for (const [cat, types] of [...byCategory].sort()) io.stdout.write(`${cat}\n${types.sort().map((t) => `  ${t}: ${registry.get(t)!.description}`).join('\n')}\n`);
  return EXIT.ok;
}
