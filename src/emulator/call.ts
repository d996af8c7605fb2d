/** What a call handler receives and returns; the server (server.ts) does the HTTP around it. */
import type { ApiObject } from '../api/wire.js';
import type { EmulatorCore } from './core.js';
import type { Route } from './routes.js';

export type Reply =
  | { type: 'objects'; objects: ApiObject[]; single: boolean }
  | { type: 'list'; items: ApiObject[] }
  | { type: 'none' }
  | { type: 'bytes'; data: Buffer };

export interface CallContext {
  core: EmulatorCore;
  /** The authenticated account's user UUID. */
  user: string;
  route: Route;
  /** The request body's keys (calls other than write). */
  body: ApiObject;
  /** The decoded drive bytes of a write call. */
  data: Buffer;
}

export type Handler = (ctx: CallContext) => Promise<Reply>;

export const noContent: Reply = { type: 'none' };

export function param(ctx: CallContext, name: string): string {
  return ctx.route.params[name] ?? '';
}
