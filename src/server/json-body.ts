// JSON request bodies whatever their Content-Type: ComfyUI reads every POST body as JSON, and simple clients (Python's
// urllib, curl -d) send JSON labelled as a form. Bodies nested deeper than any prompt needs are refused, so that
// storing or echoing them cannot overflow the stack.
import express, { type RequestHandler } from 'express';
import { HttpError } from './http-errors.js';
import { isPlainObject } from '../runtime/graph/workflow-ui.js';

/** Deepest nesting of arrays and objects accepted in a body (UI workflows need about ten). */
export const MAX_JSON_DEPTH = 256;

export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ type: () => true, limit: limitBytes, strict: false });
  return (req, res, next) => {
    if (req.is('multipart/form-data')) return next();
    parse(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (depthOver(req.body, MAX_JSON_DEPTH))
        return next(new HttpError(400, 'invalid_json', `the request body is nested more than ${MAX_JSON_DEPTH} levels deep`));
      next();
    });
  };
}

/** Whether `value` nests arrays/objects more than `max` deep (iterative: a deep value cannot overflow this check). */
export function depthOver(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return false;
}

/** The request's JSON object; an empty body counts as {} when `emptyOk`. */
export function bodyObject(body: unknown, emptyOk = false): Record<string, unknown> {
  if (body === undefined && emptyOk) return {};
  if (isPlainObject(body)) return body;
  throw new HttpError(400, 'invalid_body', `the request body must be a JSON object, got ${body === undefined ? 'nothing' : Array.isArray(body) ? 'an array' : typeof body}`);
}
