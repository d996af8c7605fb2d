/** Resource (static IP, VLAN) info as typed values (api-contract.md, "Resources"). Pure. */
import { DrivesnapError } from '../errors.js';
import { type ApiObject, type WireFormat, parseJsonObjects, splitWords } from './wire.js';

export interface ResourceRef {
  /** `ip` or `vlan`. */
  type: string;
  /** The IP address or VLAN UUID. */
  resource: string;
}

export interface ResourceInfo extends ResourceRef {
  name: string;
  user: string;
  netmask?: string;
  gateway?: string;
  nameserver?: string;
  tags: string[];
  userData: Record<string, string>;
  raw: ApiObject;
}

/** Resource lists: text `TYPE RESOURCE` lines; JSON `[{"type": ..., "resource": ...}]`. */
export function parseResourceList(body: string, format: WireFormat): ResourceRef[] {
  if (format === 'json') {
    return parseJsonObjects(body)
      .filter((o) => o.type && o.resource)
      .map((o) => ({ type: o.type!, resource: o.resource! }));
  }
  const refs: ResourceRef[] = [];
  for (const line of body.split('\n')) {
    const [type, resource] = line.trim().split(/\s+/);
    if (type && resource) refs.push({ type, resource });
  }
  return refs;
}

export function parseResourceInfo(obj: ApiObject): ResourceInfo {
  if (!obj.resource || !obj.type) {
    throw new DrivesnapError('EH_BAD_RESPONSE', 'resource info without `resource` and `type` keys: the server answered something unexpected');
  }
  const userData: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) if (k.startsWith('user:')) userData[k.slice(5)] = v;
  const info: ResourceInfo = {
    type: obj.type,
    resource: obj.resource,
    name: obj.name ?? '',
    user: obj.user ?? '',
    tags: splitWords(obj.tags),
    userData,
    raw: obj,
  };
  if (obj.netmask !== undefined) info.netmask = obj.netmask;
  if (obj.gateway !== undefined) info.gateway = obj.gateway;
  if (obj.nameserver !== undefined) info.nameserver = obj.nameserver;
  return info;
}
