// Request guards: the Host check against DNS rebinding (a server on loopback without a token answers only to loopback
// names and the names the user allowed), ComfyUI's origin check (a web page must not drive a server on this machine
// from another site) and the bearer token a server listening beyond loopback requires.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { sendError } from './http-errors.js';
import { isLoopbackHost } from './options.js';

/**
 * Why a request fails ComfyUI's origin check, or undefined when it passes: when the Host header names this machine's
 * loopback (or a name in `allowedHosts`) and an Origin header is present, their host names (with ports, when both
 * have one) must be equal.
 */
export function originProblem(host: string | undefined, origin: string | undefined, allowedHosts: ReadonlySet<string> = NO_HOSTS): string | undefined {
  if (!host || !origin) return undefined;
  const hostname = hostName(host);
  const checked = isLoopbackHost(hostname) || allowedHosts.has(hostname);
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    // "null" (sandboxed frames, file://) and garbage: not this page's own origin.
    return checked ? `Origin ${JSON.stringify(origin)} does not match Host ${host}` : undefined;
  }
  if (!checked) return undefined;
  const hostPort = hostPortOf(host);
  const originHost = o.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const originPort = o.port || undefined;
  // ComfyUI compares "host:port" when both carry a port, else the bare names.
  const same = hostPort !== undefined && originPort !== undefined ? originHost === hostname && originPort === hostPort : originHost === hostname;
  return same ? undefined : `Origin ${origin} does not match Host ${host}`;
}

const NO_HOSTS: ReadonlySet<string> = new Set();

/** Host names as --allow-host takes them: comma-separated, any case, an optional port or IPv6 brackets dropped. */
export function parseAllowedHosts(values: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const v of values)
    for (const part of v.split(',')) {
      const name = hostName(part);
      if (name !== '') names.add(name);
    }
  return names;
}

/**
 * Why a request's Host header fails the DNS-rebinding guard, or undefined when it passes. A page on evil.example
 * whose name is made to resolve to 127.0.0.1 reaches a loopback server as same-origin, so the origin check alone
 * cannot stop it; its requests still carry "Host: evil.example". A server on loopback without a token therefore
 * answers only to loopback names (localhost, 127.0.0.1, [::1], with any port) and the names in `allowedHosts`, as
 * Jupyter and Vite's dev server do. No Host header (not a browser): passes.
 */
export function hostProblem(host: string | undefined, allowedHosts: ReadonlySet<string> = NO_HOSTS): string | undefined {
  if (host === undefined) return undefined;
  const name = hostName(host);
  if (isLoopbackHost(name) || allowedHosts.has(name)) return undefined;
  const shown = /^[\x21-\x7e]{1,255}$/.test(host) ? host : JSON.stringify(host);
  const flag = /^[a-z0-9.:_-]+$/.test(name) ? name : '<name>';
  return (
    `Host ${shown} is not a loopback name of this server: a server on loopback without a token answers only to ` +
    `localhost, 127.0.0.1 and [::1] (a guard against DNS rebinding). To reach it under this name, start it with ` +
    `--allow-host ${flag} (or give it a --token)`
  );
}

function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  return h.replace(/:\d*$/, '');
}

function hostPortOf(host: string): string | undefined {
  const m = /:(\d+)$/.exec(host.trim());
  if (!m) return undefined;
  // A bare IPv6 address without brackets has colons but no port.
  if (!host.includes(']') && (host.match(/:/g) ?? []).length > 1) return undefined;
  return m[1];
}

/** Refuses requests whose Host fails `hostProblem` (403 forbidden_host) while `active()` (bound to loopback, no token). */
export function hostCheck(active: () => boolean, allowedHosts: ReadonlySet<string>): RequestHandler {
  return (req, res, next) => {
    const problem = active() ? hostProblem(req.headers.host, allowedHosts) : undefined;
    if (problem) sendError(res, 403, 'forbidden_host', problem);
    else next();
  };
}

export function originCheck(allowedHosts: ReadonlySet<string> = NO_HOSTS): RequestHandler {
  return (req, res, next) => {
    const problem = originProblem(req.headers.host, req.headers.origin, allowedHosts);
    if (problem) sendError(res, 403, 'forbidden_origin', `${problem}: cross-origin requests to a server on this machine are refused`);
    else next();
  };
}

/** The token the request carries (Authorization: Bearer, or ?token=), if any. */
export function requestToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1].trim();
  }
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    return url.searchParams.get('token') ?? undefined;
  } catch {
    return undefined;
  }
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Refuses API requests without the token (401). No token configured: everything passes. */
export function tokenGuard(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (!token || tokenMatches(requestToken(req), token)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer');
    sendError(res, 401, 'unauthorized', 'this server requires a token: send "Authorization: Bearer <token>" or add ?token=<token>');
  };
}
