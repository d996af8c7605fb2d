/** Server info as typed values (api-contract.md, "Servers"). Pure. The emulator keeps state only. */
import { DrivesnapError } from '../errors.js';
import { parseCounter } from './drive-info.js';
import { type ApiObject, splitWords } from './wire.js';

export type ServerState = 'active' | 'stopped' | 'destroyed';

export interface ServerInfo {
  uuid: string;
  name: string;
  /** `active`, `stopped`, ... as the server said; `destroyed` is never sent, it is a 404. */
  status: string;
  /** MHz. */
  cpu: number;
  /** A number of cores, or `auto`. */
  smp: number | 'auto';
  /** MB. */
  mem: number;
  persistent: boolean;
  /** Epoch seconds, while active. */
  started?: number;
  /** Device slot (`ide:0:0`, `scsi:0:1`, `block:0`) -> drive UUID. */
  drives: Record<string, string>;
  /** Boot device slots, in order. */
  boot: string[];
  tags: string[];
  user: string;
  userData: Record<string, string>;
  raw: ApiObject;
}

/** `ide:B:U`, `scsi:0:U`, `block:N` exactly: the slot keys whose value is a drive UUID. */
const DEVICE_SLOT = /^(ide:[01]:[01]|scsi:0:[0-7]|block:[0-7])$/;

export function parseServerInfo(obj: ApiObject): ServerInfo {
  const uuid = obj.server;
  if (!uuid) throw new DrivesnapError('EH_BAD_RESPONSE', 'server info without a `server` key: the server answered something unexpected');
  const drives: Record<string, string> = {};
  const userData: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (DEVICE_SLOT.test(k)) drives[k] = v;
    else if (k.startsWith('user:')) userData[k.slice(5)] = v;
  }
  const info: ServerInfo = {
    uuid,
    name: obj.name ?? '',
    status: obj.status ?? '',
    cpu: parseCounter(obj.cpu),
    smp: obj.smp === undefined || obj.smp === 'auto' ? 'auto' : parseCounter(obj.smp),
    mem: parseCounter(obj.mem),
    persistent: obj.persistent === 'true',
    drives,
    boot: splitWords(obj.boot),
    tags: splitWords(obj.tags),
    user: obj.user ?? '',
    userData,
    raw: obj,
  };
  if (obj.started !== undefined && obj.started !== '') info.started = parseCounter(obj.started);
  return info;
}
