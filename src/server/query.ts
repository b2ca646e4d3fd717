// Query-string parameters, checked: a malformed number is a 400 with the parameter's name, never a crash.
import type { Request } from 'express';
import { HttpError } from './http-errors.js';

/** A single string parameter (repeated parameters are refused), or undefined when absent. */
export function queryString(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'invalid_parameter', `query parameter '${name}' must be given once, as plain text`);
  return v;
}

export function queryInt(req: Request, name: string, opts: { min?: number } = {}): number | undefined {
  const s = queryString(req, name);
  if (s === undefined || s === '') return undefined;
  if (!/^[+-]?\d{1,15}$/.test(s.trim())) throw new HttpError(400, 'invalid_parameter', `query parameter '${name}' must be an integer, got ${JSON.stringify(s.slice(0, 50))}`);
  const n = Number(s);
  if (opts.min !== undefined && n < opts.min) throw new HttpError(400, 'invalid_parameter', `query parameter '${name}' must be at least ${opts.min}, got ${n}`);
  return n;
}
