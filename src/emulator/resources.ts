/** Resources: static IPs (from ip-pools.ts) and VLANs: list, info, create, set, destroy. */
import { randomUUID } from 'node:crypto';
import type { ApiObject } from '../api/wire.js';
import { splitWords } from '../api/wire.js';
import { type CallContext, type Handler, infoReply, noContent, param } from './call.js';
import type { EmulatorCore } from './core.js';
import { missing, usage } from './http-error.js';
import { gatewayOf, STATIC_NAMESERVER, STATIC_NETMASK, STATIC_POOL, takeAddress } from './ip-pools.js';
import { type InfoBlock, rememberListKeys } from './list-keys.js';
import type { ResourceRecord, ResourceType } from './state.js';

const READ_ONLY = new Set(['resource', 'type', 'user', 'netmask', 'gateway', 'nameserver']);

function validateResourceKeys(body: ApiObject): ApiObject {
  const props: ApiObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'name') props[key] = value;
    else if (key === 'tags') props[key] = splitWords(value).join(' ');
    else if (key.startsWith('user:') && key.length > 5) props[key] = value;
    else if (READ_ONLY.has(key)) continue;
    else throw usage(`unknown resource key "${key}"`);
  }
  return props;
}

function resourceBlock(r: ResourceRecord): InfoBlock {
  return { object: resourceInfo(r), lists: r.lists };
}

function resourceInfo(r: ResourceRecord): ApiObject {
  const info: ApiObject = { ...r.props, resource: r.resource, type: r.type, user: r.user };
  if (r.type === 'ip') {
    Object.assign(info, { netmask: STATIC_NETMASK, gateway: gatewayOf(r.resource), nameserver: STATIC_NAMESERVER });
  }
  return info;
}

export function resourceHandlers(core: EmulatorCore): Record<string, Handler> {
  const listOwn = (ctx: CallContext) =>
    Object.values(core.state.resources)
      .filter((r) => r.user === ctx.user && (!param(ctx, 'type') || r.type === param(ctx, 'type')))
      .sort((a, b) => a.type.localeCompare(b.type) || a.resource.localeCompare(b.resource));
  const own = (ctx: CallContext) => {
    const key = `${param(ctx, 'type')}/${param(ctx, 'resource')}`;
    const r = core.state.resources[key];
    if (!r || r.user !== ctx.user) throw missing(`resource ${key} not found`);
    return r;
  };
  return {
    'resources.list': async (ctx) => ({
      type: 'list',
      items: listOwn(ctx).map((r) => ({ type: r.type, resource: r.resource })),
    }),
    'resources.info': async (ctx) =>
      param(ctx, 'resource')
        ? infoReply([resourceBlock(own(ctx))], true)
        : infoReply(listOwn(ctx).map(resourceBlock), false),
    'resources.create': async (ctx) => {
      const props = validateResourceKeys(ctx.body);
      if (props.name === undefined) throw usage('resource create needs a name');
      const type = param(ctx, 'type') as ResourceType;
      const resource = type === 'ip' ? takeAddress(core.state, STATIC_POOL) : randomUUID();
      const record: ResourceRecord = { resource, type, user: ctx.user, props };
      rememberListKeys(record, record.props, ctx.body, ctx.lists);
      core.state.resources[`${type}/${resource}`] = record;
      await core.saver.save();
      return infoReply([resourceBlock(record)], true);
    },
    'resources.set': async (ctx) => {
      const record = own(ctx);
      Object.assign(record.props, validateResourceKeys(ctx.body));
      rememberListKeys(record, record.props, ctx.body, ctx.lists);
      await core.saver.save();
      return infoReply([resourceBlock(record)], true);
    },
    'resources.destroy': async (ctx) => {
      const record = own(ctx);
      delete core.state.resources[`${record.type}/${record.resource}`];
      await core.saver.save();
      return noContent;
    },
  };
}
