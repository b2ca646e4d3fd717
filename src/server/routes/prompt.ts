// POST /prompt queues a prompt (ComfyUI's body and answers); GET /prompt tells how many jobs remain.
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { PromptValidationError, WorkflowFormatError } from '../../runtime/graph/errors.js';
import { uiToPrompt } from '../../runtime/graph/ui-to-api.js';
import { validatePrompt } from '../../runtime/graph/validate.js';
import { isPlainObject, parseUiWorkflow } from '../../runtime/graph/workflow-ui.js';
import { type ServerContext, queueInfo } from '../context.js';
import { errorObject } from '../http-errors.js';
import type { Job } from '../job.js';
import { bodyObject } from '../json-body.js';

/** extra_data keys ComfyUI never stores or shows (API keys for its partner nodes). */
const SENSITIVE_EXTRA_DATA_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function promptRoutes(ctx: ServerContext): Router {
  const r = Router();

  r.get('/prompt', (_req, res) => {
    res.json(queueInfo(ctx));
  });

  r.post('/prompt', (req, res) => {
    const body = bodyObject(req.body);
    const fail = (type: string, message: string, details = message, extra: Record<string, unknown> = {}) =>
      void res.status(400).json({ error: errorObject(type, message, details, extra), node_errors: {} });

    // The prompt: API format, or (a convenience beyond ComfyUI) a UI workflow converted here.
    let prompt: unknown;
    let workflow: unknown;
    if ('prompt' in body) prompt = body.prompt;
    else if ('workflow' in body) {
      try {
        prompt = uiToPrompt(parseUiWorkflow(body.workflow), ctx.registry, ctx.folders);
        workflow = body.workflow;
      } catch (e) {
        if (!(e instanceof WorkflowFormatError)) throw e;
        return fail('invalid_prompt', 'Cannot execute because the workflow is not a ComfyUI workflow (UI JSON)', e.message, { path: e.path });
      }
    } else return fail('no_prompt', 'No prompt provided');

    let promptId: string;
    if (body.prompt_id === undefined || body.prompt_id === null) promptId = randomUUID();
    else if (typeof body.prompt_id !== 'string' || !CANONICAL_UUID.test(body.prompt_id))
      return fail('invalid_prompt_id', 'prompt_id must be a valid UUID', 'prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one');
    else if (ctx.queue.has(body.prompt_id)) return fail('invalid_prompt_id', `prompt ${body.prompt_id} is already queued or running`);
    else promptId = body.prompt_id;

    let targets: string[] | undefined;
    if (body.partial_execution_targets !== undefined && body.partial_execution_targets !== null) {
      const t = body.partial_execution_targets;
      if (!Array.isArray(t) || !t.every((x) => typeof x === 'string' || typeof x === 'number'))
        return fail('invalid_prompt', 'partial_execution_targets must be a list of node ids');
      targets = t.map(String);
    }

    if (body.extra_data !== undefined && body.extra_data !== null && !isPlainObject(body.extra_data)) return fail('invalid_prompt', 'extra_data must be an object');
    if (body.client_id !== undefined && body.client_id !== null && typeof body.client_id !== 'string') return fail('invalid_prompt', 'client_id must be a string');
    let number: number | undefined;
    if ('number' in body) {
      number = typeof body.number === 'number' ? body.number : typeof body.number === 'string' && body.number.trim() !== '' ? Number(body.number) : NaN;
      if (!Number.isFinite(number)) return fail('invalid_prompt', 'number must be a finite number (the priority: lower runs first)');
    }

    let validated;
    try {
      validated = validatePrompt(prompt, ctx.registry, ctx.folders, { targets });
    } catch (e) {
      if (!(e instanceof PromptValidationError)) throw e;
      ctx.log(`invalid prompt: ${e.error.message}`);
      return void res.status(400).json(e.toJSON());
    }

    const extraData: Record<string, unknown> = { ...((body.extra_data as Record<string, unknown> | undefined) ?? {}) };
    if (typeof body.client_id === 'string') extraData.client_id = body.client_id;
    for (const k of SENSITIVE_EXTRA_DATA_KEYS) delete extraData[k];
    if (workflow !== undefined) {
      const info = isPlainObject(extraData.extra_pnginfo) ? extraData.extra_pnginfo : {};
      if (info.workflow === undefined) extraData.extra_pnginfo = { ...info, workflow };
    }
    extraData.create_time = Date.now();

    if (number === undefined) {
      number = ctx.store.takeNumber();
      if (body.front) number = -number;
    }
    const job: Job = { id: promptId, number, seq: ctx.store.takeSeq(), prompt, extraData, outputs: validated.outputs, runPrompt: validated.prompt };
    ctx.queue.put(job);
    res.json({ prompt_id: promptId, number, node_errors: validated.nodeErrors });
  });

  return r;
}
