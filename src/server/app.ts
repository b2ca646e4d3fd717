// Assembles the server: HTTP routes (each also under /api), the WebSocket hub on the same port, the queue with its
// SQLite store, and the job runner. At startup a job cut off by a crash becomes an interrupted history entry and
// pending jobs resume in order.
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Executor, type GraphRunner } from '../runtime/graph/executor.js';
import { PACKAGE_ROOT, ensureFolders } from '../runtime/graph/folders.js';
import { ProcessExecutor } from '../runtime/graph/process-executor.js';
import { type ServerContext, queueInfo, serverFeatures } from './context.js';
import { errorHandler, notFound } from './http-errors.js';
import { clientIdOf } from './job.js';
import { JobRunner } from './job-runner.js';
import { jsonBody } from './json-body.js';
import { DEFAULT_MAX_UPLOAD_BYTES, type ServerOptions, isLoopbackHost } from './options.js';
import { PromptQueue } from './prompt-queue.js';
import { historyRoutes } from './routes/history.js';
import { jobsRoutes } from './routes/jobs.js';
import { objectInfoRoutes } from './routes/object-info.js';
import { promptRoutes } from './routes/prompt.js';
import { queueRoutes } from './routes/queue.js';
import { systemRoutes } from './routes/system.js';
import { uploadRoutes } from './routes/upload.js';
import { viewRoutes } from './routes/view.js';
import { workflowsRoutes } from './routes/workflows.js';
import { hostCheck, hostProblem, originCheck, parseAllowedHosts, tokenGuard } from './security.js';
import { staticRoutes } from './static-files.js';
import { JobStore } from './store.js';
import { WsHub } from './ws-hub.js';

export interface InstructboothServer {
  readonly app: express.Express;
  readonly http: http.Server;
  readonly ctx: ServerContext;
  /** Starts listening; resolves with the address actually bound (port 0 picks a free port). */
  listen(port: number, host: string): Promise<{ host: string; port: number; url: string }>;
  /**
   * Stops: 'graceful' cancels the running job and stores it as interrupted, pending jobs stay queued on disk;
   * 'abandon' stores nothing more, as if the process died (the next start recovers).
   */
  close(mode?: 'graceful' | 'abandon'): Promise<void>;
}

export function createServer(opts: ServerOptions): InstructboothServer {
  const log = opts.log ?? ((line: string) => void process.stderr.write(`[instructbooth] ${line}\n`));
  const maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  ensureFolders(opts.folders);

  // DNS-rebinding guard: on while listening on loopback without a token (set by listen()).
  const allowedHosts = parseAllowedHosts(opts.allowHosts ?? []);
  let checkHost = false;
  const hostGuard = (host: string | undefined) => (checkHost ? hostProblem(host, allowedHosts) : undefined);

  const store = new JobStore(opts.dbPath);
  const queue = new PromptQueue(store);
  const executor: GraphRunner = opts.registryModule
    ? new ProcessExecutor({ registry: opts.registryModule, folders: opts.folders, cacheSize: opts.cacheSize })
    : new Executor(opts.registry, opts.folders, { cacheSize: opts.cacheSize });
  // The hub's greeting reads the runner, which is made after the hub: filled in below.
  const ctx = { registry: opts.registry, folders: opts.folders, store, queue, executor, maxUploadBytes, log } as ServerContext;
  const hub = new WsHub({
    token: opts.token,
    hostProblem: hostGuard,
    allowedHosts,
    features: () => serverFeatures(ctx),
    log,
    greeting: (sid) => {
      const out: { type: string; data: Record<string, unknown> }[] = [{ type: 'status', data: { status: queueInfo(ctx), sid } }];
      // A client reconnecting during its own run learns which node runs now (as ComfyUI does).
      const cur = ctx.runner.current;
      if (cur && cur.node !== undefined && clientIdOf(cur.job) === sid) out.push({ type: 'executing', data: { node: cur.node, display_node: cur.node, prompt_id: cur.job.id } });
      return out;
    },
  });
  const runner = new JobRunner(queue, store, executor, hub, log);
  Object.assign(ctx, { hub, runner });

  const { pending, cutOff } = store.loadQueue();
  runner.recover(cutOff);
  queue.restore(pending);
  if (pending.length) log(`resuming ${pending.length} queued prompt(s)`);
  queue.onChange(() => hub.sendJson('status', { status: queueInfo(ctx) }));

  const app = express();
  app.disable('x-powered-by');
  app.use(hostCheck(() => checkHost, allowedHosts));
  app.use(originCheck(allowedHosts));
  app.use(staticRoutes(opts.webRoot));
  app.use(tokenGuard(opts.token));
  app.use(jsonBody(maxUploadBytes));
  const api = express.Router();
  for (const routes of [promptRoutes, queueRoutes, historyRoutes, objectInfoRoutes, uploadRoutes, viewRoutes, systemRoutes]) api.use(routes(ctx));
  api.use(workflowsRoutes(opts.workflowsDir ?? path.join(PACKAGE_ROOT, 'workflows')));
  app.use('/api', jobsRoutes(ctx));
  app.use('/api', api);
  app.use(api);
  app.use(notFound);
  app.use(errorHandler(log));

  const server = http.createServer(app);
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  runner.start();

  let closing: Promise<void> | undefined;
  return {
    app,
    http: server,
    ctx,
    listen(port, host) {
      checkHost = !opts.token && isLoopbackHost(host);
      return new Promise((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const a = server.address() as AddressInfo;
          const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ host: a.address, port: a.port, url: `http://${shown}:${a.port}` });
        });
      });
    },
    close(mode = 'graceful') {
      closing ??= (async () => {
        await runner.close(mode);
        await executor.close();
        hub.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        store.close();
      })();
      return closing;
    },
  };
}
