// Request guards: ComfyUI's origin check (a web page must not drive a server on this machine from another site) and
// the bearer token a server listening beyond loopback requires.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { sendError } from './http-errors.js';
import { isLoopbackHost } from './options.js';

/**
 * Why a request fails ComfyUI's origin check, or undefined when it passes: when the Host header names this machine's
 * loopback and an Origin header is present, their host names (with ports, when both have one) must be equal.
 */
export function originProblem(host: string | undefined, origin: string | undefined): string | undefined {
  if (!host || !origin) return undefined;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    // "null" (sandboxed frames, file://) and garbage: not this page's own origin.
    return isLoopbackHost(hostName(host)) ? `Origin ${JSON.stringify(origin)} does not match Host ${host}` : undefined;
  }
  const hostname = hostName(host);
  if (!isLoopbackHost(hostname)) return undefined;
  const hostPort = hostPortOf(host);
  const originHost = o.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const originPort = o.port || undefined;
  // ComfyUI compares "host:port" when both carry a port, else the bare names.
  const same = hostPort !== undefined && originPort !== undefined ? originHost === hostname && originPort === hostPort : originHost === hostname;
  return same ? undefined : `Origin ${origin} does not match Host ${host}`;
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

export const originCheck: RequestHandler = (req, res, next) => {
  const problem = originProblem(req.headers.host, req.headers.origin);
  if (problem) sendError(res, 403, 'forbidden_origin', `${problem}: cross-origin requests to a server on this machine are refused`);
  else next();
};

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
