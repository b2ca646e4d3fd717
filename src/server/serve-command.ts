// `instructbooth serve [--host H] [--port P] [--token T] [--insecure] [--allow-host NAME]... [--data DIR]` and `npm start`: the server on
// 127.0.0.1:8188 by default, with the input/output/temp/models folders and user/instructbooth.db under the data
// folder (default: the working directory). SIGINT and SIGTERM stop it gracefully (serve-process.ts wires them).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_REGISTRY, createRegistry } from '../nodes/index.js';
import { defaultFolders } from '../runtime/graph/folders.js';
import type { NodeRegistry } from '../runtime/graph/registry.js';
import { createServer } from './app.js';
import { DEFAULT_HOST, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PORT, planListen } from './options.js';

export interface ServeIo {
  stdout: { write(s: string): void };
  stderr: { write(s: string): void };
  /** Called once to register what stops the server (the CLI wires Ctrl-C to it). */
  onInterrupt(handler: () => void): void;
  cwd: string;
  registry?: NodeRegistry;
}

export const SERVE_USAGE = `usage: instructbooth serve [--host 127.0.0.1] [--port 8188] [--token <secret>] [--insecure] [--allow-host <name>]... [--data <dir>] [--max-upload-mb 50]
  --host         address to listen on (default 127.0.0.1; another address needs --token, or --insecure)
  --token        clients must send "Authorization: Bearer <secret>" or ?token=<secret> (also INSTRUCTBOOTH_TOKEN)
  --allow-host   on loopback without a token, answer to this Host name too (repeatable or comma-separated); by
                 default only localhost, 127.0.0.1 and [::1] are, a guard against DNS rebinding
  --data         folder holding input/, output/, temp/, models/ and user/instructbooth.db (default: working directory)`;

/** The database under a data folder. */
export function databasePath(base: string): string {
  return path.join(base, 'user', 'instructbooth.db');
}

export async function serveCommand(args: string[], io: ServeIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        insecure: { type: 'boolean' },
        data: { type: 'string' },
        'max-upload-mb': { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr.write(`instructbooth serve: ${(e as Error).message}\n${SERVE_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const host = values.host ?? DEFAULT_HOST;
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr.write(`instructbooth serve: --port must be an integer from 0 to 65535, got ${values.port}\n`);
    return 2;
  }
  const maxUploadMb = values['max-upload-mb'] === undefined ? DEFAULT_MAX_UPLOAD_BYTES / 2 ** 20 : Number(values['max-upload-mb']);
  if (!Number.isFinite(maxUploadMb) || maxUploadMb <= 0) {
    io.stderr.write(`instructbooth serve: --max-upload-mb must be a positive number\n`);
    return 2;
  }
  const token = values.token ?? (process.env.INSTRUCTBOOTH_TOKEN || undefined);
  const plan = planListen(host, token, !!values.insecure);
  if (plan.refuse) {
    io.stderr.write(`instructbooth serve: ${plan.refuse}\n`);
    return 2;
  }
  if (plan.warning) io.stderr.write(`${plan.warning}\n`);

  const base = path.resolve(io.cwd, values.data ?? '.');
  const server = createServer({
    registry: io.registry ?? createRegistry(),
    // The built-in nodes run in a child process (a worker thread there); a registry handed in (tests) runs in this thread.
    registryModule: io.registry ? undefined : BUILTIN_REGISTRY,
    folders: defaultFolders(base),
    dbPath: databasePath(base),
    token,
    allowHosts: values['allow-host'] ?? [],
    maxUploadBytes: Math.round(maxUploadMb * 2 ** 20),
    log: (line) => io.stderr.write(`[instructbooth] ${line}\n`),
  });
  let address;
  try {
    address = await server.listen(port, host);
  } catch (e) {
    await server.close();
    const code = (e as NodeJS.ErrnoException).code;
    io.stderr.write(`instructbooth serve: cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use (try --port)' : (e as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`instructbooth server at ${address.url}/ (API under /api, WebSocket at /ws); data in ${base}\n`);
  await new Promise<void>((resolve) => io.onInterrupt(resolve));
  io.stderr.write('stopping: the running job is interrupted, queued jobs resume at the next start\n');
  await server.close('graceful');
  return 0;
}
