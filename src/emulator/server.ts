/**
 * The HTTP front of the emulator on node:http: authentication, routing, GET/POST rules, fault injection,
 * body reading, and turning handler results and errors into answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiObject } from '../api/wire.js';
import { authenticate } from './auth.js';
import type { CallContext, Handler } from './call.js';
import type { EmulatorCore } from './core.js';
import type { FaultDecision, FaultInjector } from './faults.js';
import { EmulatorHttpError } from './http-error.js';
import { BodyTooLarge, checkWriteHeaders, drainBody, readCallBody, readWriteBody } from './request-body.js';
import { responseFormat, sendError, sendReply } from './respond.js';
import { parseRoute, type Route } from './routes.js';
import type { Wan } from './wan.js';

const EMPTY = Buffer.alloc(0);
const NO_LISTS: ReadonlySet<string> = new Set();

export interface RequestHandlerDeps {
  core: EmulatorCore;
  faults: FaultInjector;
  wan: Wan;
  handlers: Record<string, Handler>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createRequestHandler(deps: RequestHandlerDeps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    deps.core.stats.requests++;
    handle(deps, req, res).catch((err: unknown) => {
      const httpErr = err instanceof EmulatorHttpError ? err : new EmulatorHttpError('system', `internal error: ${String(err)}`);
      sendError(res, httpErr, true);
    });
  };
}

/** Answers an error once the request body is consumed, so a keep-alive connection stays usable. */
async function refuse(req: IncomingMessage, res: ServerResponse, err: EmulatorHttpError): Promise<void> {
  await drainBody(req).catch(() => undefined);
  sendError(res, err);
}

async function handle(deps: RequestHandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { core, wan } = deps;
  // The WAN's round trip, added to every request before anything is answered.
  if (wan.latencyMs > 0) await sleep(wan.latencyMs);
  const method = req.method ?? 'GET';
  const path = (req.url ?? '/').split('?')[0]!;
  let user: string;
  try {
    user = authenticate(req.headers, core.accounts).user;
  } catch (err) {
    return refuse(req, res, err as EmulatorHttpError);
  }
  const route = parseRoute(path);
  if (!route) return refuse(req, res, new EmulatorHttpError('missing', `unknown command ${path}`));
  if (method !== 'POST' && (route.mutates || (method !== 'GET' && method !== 'HEAD'))) {
    return refuse(req, res, new EmulatorHttpError('method', `${route.kind.replace('.', ' ')} needs POST, not ${method}`));
  }

  const fault = deps.faults.decide(route.kind);
  if (fault.action !== 'none') core.stats.faultsInjected++;
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);

  let body: ApiObject = {};
  let lists: ReadonlySet<string> = NO_LISTS;
  let data: Buffer = EMPTY;
  try {
    if (route.kind === 'drives.write') {
      const head = checkWriteHeaders(req, core.limits.maxWriteBytes);
      data = await readWriteBody(req, head, core.limits.maxWriteBytes, wan.pacer(user, 'up'));
    } else {
      ({ body, lists } = await readCallBody(req, wan.pacer(user, 'up')));
    }
  } catch (err) {
    if (err instanceof EmulatorHttpError) {
      // The body may be unread or endless (chunked): answer and close rather than read it all.
      sendError(res, err, true);
      return;
    }
    if (err instanceof BodyTooLarge) return sendError(res, new EmulatorHttpError('usage', err.message), true);
    throw err;
  }

  if (fault.action === 'busy') return sendError(res, new EmulatorHttpError('busy', 'injected fault: busy, try again'));
  if (fault.action === 'system') return sendError(res, new EmulatorHttpError('system', 'injected fault: system error'));
  if (fault.action === 'reset' && !resetsAfterHandling(route, fault)) {
    res.destroy();
    return;
  }

  const handler = deps.handlers[route.kind];
  if (!handler) throw new EmulatorHttpError('missing', `unknown command ${path}`);
  const ctx: CallContext = { core, user, route, body, lists, data };
  let reply: Awaited<ReturnType<Handler>>;
  try {
    reply = await handler(ctx);
  } catch (err) {
    if (err instanceof EmulatorHttpError) return sendError(res, err);
    throw err;
  }
  await sendReply(res, reply, responseFormat(req.headers.accept), {
    slowBytesPerSec: fault.slowBodyBytesPerSec,
    resetMidBody: fault.action === 'reset',
    pace: wan.pacer(user, 'down'),
  });
}

/**
 * A reset read runs and dies mid-body; a reset write dies either before it is applied or after (drawn
 * per request), which is what makes retrying writes at a fixed offset matter. Other calls die unapplied.
 */
function resetsAfterHandling(route: Route, fault: FaultDecision): boolean {
  if (route.kind === 'drives.read') return true;
  if (route.kind === 'drives.write') return fault.applyBeforeReset;
  return false;
}
