// Every error the server answers with is JSON: {error: {type, message, details, extra_info}} (ComfyUI's error object,
// as POST /prompt returns it), so clients read one shape whatever went wrong.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';

export interface ErrorObject {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

/** An error a request caused: its status, a machine-readable type and a message for people. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly details = '',
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function errorObject(type: string, message: string, details = '', extra: Record<string, unknown> = {}): ErrorObject {
  return { type, message, details, extra_info: extra };
}

export function sendError(res: Response, status: number, type: string, message: string, details = '', extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error: errorObject(type, message, details, extra) });
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `no route for ${req.method} ${req.path}`);
};

/** Body-parser, multer and URL-decoding errors carry a status; anything else is a 500 that the log keeps. */
export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      sendError(res, err.status, err.type, err.message, err.details, err.extra);
      return;
    }
    const e = err as { status?: number; statusCode?: number; type?: string; code?: string; message?: string; expose?: boolean };
    const status = e.status ?? e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = e.type === 'entity.parse.failed' ? 'invalid_json' : e.type === 'entity.too.large' ? 'payload_too_large' : (e.type ?? e.code ?? 'bad_request');
      const message = e.type === 'entity.parse.failed' ? `the request body is not valid JSON: ${e.message ?? ''}` : (e.message ?? 'bad request');
      sendError(res, status, String(type).replace(/[.\s]+/g, '_').toLowerCase(), message);
      return;
    }
    log(`error on ${req.method} ${req.originalUrl}: ${(err as Error)?.stack ?? String(err)}`);
    sendError(res, 500, 'internal_error', `internal server error: ${(err as Error)?.message ?? String(err)}`);
  };
}
