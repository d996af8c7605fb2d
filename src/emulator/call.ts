/** What a call handler receives and returns; the server (server.ts) does the HTTP around it. */
import type { ApiObject } from '../api/wire.js';
import type { EmulatorCore } from './core.js';
import type { InfoBlock } from './list-keys.js';
import type { Route } from './routes.js';

export type Reply =
  | { type: 'objects'; blocks: InfoBlock[]; single: boolean }
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
  /** Keys of a JSON body given as lists (list-keys.ts). */
  lists: ReadonlySet<string>;
  /** The decoded drive bytes of a write call. */
  data: Buffer;
}

export type Handler = (ctx: CallContext) => Promise<Reply>;

export const noContent: Reply = { type: 'none' };

export function param(ctx: CallContext, name: string): string {
  return ctx.route.params[name] ?? '';
}

/** Info blocks to answer: one (`single`: a JSON object) or several (a JSON array). */
export function infoReply(blocks: InfoBlock[], single: boolean): Reply {
  return { type: 'objects', blocks, single };
}
