/**
 * Address pools. Static IP resources come from 198.18.0.0/15 (reserved for benchmarking, so never a real
 * network) and DHCP leases (and VNC addresses allocated at boot) from 172.16.0.0/12. Both are cut into /24
 * subnets in which .0 (network), .1 (gateway), .2 (nameserver) and .255 (broadcast) are never handed out.
 * Each pool has its own cursor; an address in use anywhere is skipped. Pure.
 */
import { full } from './http-error.js';
import type { EmulatorState } from './state.js';

export interface IpPool {
  name: 'static' | 'dhcp';
  /** First address of the pool as a 32-bit number. */
  base: number;
  /** Number of /24 subnets. */
  subnets: number;
}

const FIRST_HOST = 3;
const LAST_HOST = 254;
const HOSTS_PER_SUBNET = LAST_HOST - FIRST_HOST + 1;

export const STATIC_POOL: IpPool = { name: 'static', base: ipToNumber('198.18.0.0'), subnets: 512 };
export const DHCP_POOL: IpPool = { name: 'dhcp', base: ipToNumber('172.16.0.0'), subnets: 4096 };
export const STATIC_NETMASK = '255.255.255.0';
/** The one nameserver every static IP is told about: .2 of the pool's first subnet, never handed out. */
export const STATIC_NAMESERVER = '198.18.0.2';

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function capacity(pool: IpPool): number {
  return pool.subnets * HOSTS_PER_SUBNET;
}

/** The pool's index-th usable address. */
export function addressAt(pool: IpPool, index: number): string {
  const subnet = Math.floor(index / HOSTS_PER_SUBNET);
  return numberToIp(pool.base + subnet * 256 + FIRST_HOST + (index % HOSTS_PER_SUBNET));
}

/** The gateway of a static address: .1 of its /24. */
export function gatewayOf(ip: string): string {
  return numberToIp((ipToNumber(ip) & ~255) + 1);
}

/**
 * The next free address after `cursor` (the index last handed out, -1 at first), wrapping around once;
 * undefined when every address of the pool is in use.
 */
export function allocate(pool: IpPool, cursor: number, inUse: ReadonlySet<string>): { address: string; cursor: number } | undefined {
  const total = capacity(pool);
  for (let step = 1; step <= total; step++) {
    const index = (((cursor + step) % total) + total) % total;
    const address = addressAt(pool, index);
    if (!inUse.has(address)) return { address, cursor: index };
  }
  return undefined;
}

/** Every address the emulator has given out: static IP resources, and the leases of running servers. */
export function addressesInUse(state: EmulatorState): Set<string> {
  const used = new Set<string>();
  for (const r of Object.values(state.resources)) if (r.type === 'ip') used.add(r.resource);
  for (const s of Object.values(state.servers)) {
    if (s.dhcpIp) used.add(s.dhcpIp);
    if (s.vncIp) used.add(s.vncIp);
  }
  return used;
}

/** Hands out the pool's next free address and moves its cursor in the state; 507 full when none is left. */
export function takeAddress(state: EmulatorState, pool: IpPool): string {
  const found = allocate(pool, state.ipCursors[pool.name], addressesInUse(state));
  if (!found) throw full(`no free ${pool.name === 'static' ? 'static IP' : 'DHCP'} address left in the emulator`);
  state.ipCursors[pool.name] = found.cursor;
  return found.address;
}
