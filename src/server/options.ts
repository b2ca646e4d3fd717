// What a server is started with, and the rule for where it may listen: loopback freely, anything else only with a
// token (or, with --insecure, after a loud warning).
import type { Folders } from '../runtime/graph/node-api.js';
import type { NodeRegistry } from '../runtime/graph/registry.js';
import type { RegistryModule } from '../runtime/graph/worker-protocol.js';

export interface ServerOptions {
  registry: NodeRegistry;
  folders: Folders;
  /** The queue and history database (`<base>/user/instructbooth.db`); ':memory:' keeps nothing across restarts. */
  dbPath: string;
  /** Clients must send `Authorization: Bearer <token>` or `?token=<token>` to the API and the WebSocket. */
  token?: string;
  /**
   * Host names (besides localhost, 127.0.0.1 and [::1]) the server answers to while it listens on loopback without a
   * token (`--allow-host`); any other Host header is refused (403 forbidden_host), a guard against DNS rebinding.
   */
  allowHosts?: readonly string[];
  /** Largest upload and JSON body in bytes (ComfyUI's max_upload_size). Default 50 MB. */
  maxUploadBytes?: number;
  /** Static editor files; default web/dist in the package. A missing folder serves a page saying so. */
  webRoot?: string;
  /** Example workflow files served at /api/workflows; default workflows/ in the package. */
  workflowsDir?: string;
  /**
   * Runs workflows in a child process whose nodes come from this module (the same nodes as `registry`), so that
   * inference never holds the server's event loop and a native crash (a GPU provider's segfault) ends only the run.
   * Without it they run in the server's thread (test registries).
   */
  registryModule?: RegistryModule;
  /** Most node results the executor keeps across jobs. */
  cacheSize?: number;
  /** Server log lines (job started/finished, warnings); default stderr. */
  log?: (line: string) => void;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8188;
export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** Whether `host` (an address or name to listen on, or a Host header's name) is this machine's loopback. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface ListenPlan {
  /** Why the server must not start, if it must not. */
  refuse?: string;
  /** What to print loudly before starting. */
  warning?: string;
}

/** Loopback: fine. Another address: needs a token, or --insecure (then a warning). */
export function planListen(host: string, token: string | undefined, insecure: boolean): ListenPlan {
  if (isLoopbackHost(host) || token) return {};
  if (!insecure)
    return {
      refuse:
        `refusing to listen on ${host} without a token: anyone who can reach it could run workflows and read your outputs. ` +
        'Pass --token <secret> (clients then send "Authorization: Bearer <secret>" or ?token=<secret>), or --insecure to accept the risk.',
    };
  const bar = '!'.repeat(78);
  return {
    warning: `${bar}\n!! WARNING: listening on ${host} with NO authentication (--insecure).\n!! Anyone who can reach this address can queue workflows, upload files and read every output.\n!! Use --token <secret> instead, or listen on 127.0.0.1.\n${bar}`,
  };
}
