import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { addressAt, allocate, capacity, DHCP_POOL, type IpPool, STATIC_POOL } from '../../src/emulator/ip-pools.js';
import { call, keysOf, post } from './client.js';

const lastOctet = (ip: string) => Number(ip.split('.')[3]);

describe('address pools', () => {
  it('never yields a network, gateway, nameserver or broadcast address, in either pool', () => {
    for (const pool of [STATIC_POOL, DHCP_POOL]) {
      const octets = new Set(Array.from({ length: 600 }, (_, i) => lastOctet(addressAt(pool, i))));
      for (const reserved of [0, 1, 2, 255]) expect(octets.has(reserved)).toBe(false);
    }
    expect(addressAt(STATIC_POOL, 0)).toBe('198.18.0.3');
    expect(addressAt(STATIC_POOL, capacity(STATIC_POOL) - 1)).toBe('198.19.255.254');
    expect(addressAt(DHCP_POOL, capacity(DHCP_POOL) - 1)).toBe('172.31.255.254');
  });

  it('skips addresses in use, wraps around once, and reports a full pool', () => {
    const tiny: IpPool = { name: 'dhcp', base: DHCP_POOL.base, subnets: 1 };
    const all = Array.from({ length: capacity(tiny) }, (_, i) => addressAt(tiny, i));
    const inUse = new Set(all.filter((a) => a !== '172.16.0.7'));
    expect(allocate(tiny, 100, inUse)).toEqual({ address: '172.16.0.7', cursor: 4 });
    expect(allocate(tiny, 0, new Set(['172.16.0.4']))).toEqual({ address: '172.16.0.5', cursor: 2 });
    expect(allocate(tiny, -1, new Set(all))).toBeUndefined();
  });
});

describe('static IPs, DHCP leases and VNC addresses over HTTP', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu.close();
  });

  const createServer = async (body: string) => keysOf((await post(emu, '/servers/create', `name s\ncpu 1000\nmem 256\n${body}`)).text);

  it('hands out static IPs apart from their gateway and nameserver, and leases that are neither, all distinct', async () => {
    const given: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ip = keysOf((await post(emu, '/resources/ip/create', `name ip${i}`)).text);
      expect(ip.resource).not.toBe(ip.gateway);
      expect(ip.resource).not.toBe(ip.nameserver);
      expect([0, 1, 2, 255]).not.toContain(lastOctet(ip.resource!));
      given.push(ip.resource!, ip.gateway!, ip.nameserver!);
      const server = await createServer('nic:0:dhcp auto');
      const lease = server['nic:0:dhcp:ip']!;
      expect([0, 1, 2, 255]).not.toContain(lastOctet(lease));
      expect(given).not.toContain(lease);
      given.push(lease);
    }
    const handedOut = given.filter((_, i) => i % 4 === 0 || i % 4 === 3);
    expect(new Set(handedOut).size).toBe(handedOut.length);
  });

  it('reports vnc:ip with `vnc auto`: the DHCP lease when there is one, else an address allocated at boot', async () => {
    const withDhcp = await createServer('nic:0:dhcp auto\nvnc auto\nvnc:password secret');
    expect(withDhcp['vnc:ip']).toBe(withDhcp['nic:0:dhcp:ip']);
    const without = await createServer('vnc auto\nvnc:password secret');
    expect(without['vnc:ip']).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect([0, 1, 2, 255]).not.toContain(lastOctet(without['vnc:ip']!));
    expect(without['vnc:ip']).not.toBe(withDhcp['vnc:ip']);
    expect(keysOf((await call(emu, `/servers/${without.server}/info`)).text)['vnc:ip']).toBe(without['vnc:ip']);
    const fixed = await createServer('vnc 198.18.7.9');
    expect(fixed['vnc:ip']).toBe('198.18.7.9');
    const stopped = keysOf((await post(emu, '/servers/create/stopped', 'name p\ncpu 1000\nmem 256\nvnc auto')).text);
    expect(stopped['vnc:ip']).toBeUndefined();
  });
});
