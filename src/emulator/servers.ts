/**
 * Servers as state only (no virtual machines): create (started or stopped), set, start, stop, ACPI
 * shutdown (completes after a delay, so clients must poll), reset, destroy, info, list. A running server
 * claims the drives its devices name; an exclusive drive can be claimed by one running server only.
 */
import { randomUUID } from 'node:crypto';
import type { ApiObject } from '../api/wire.js';
import { splitWords } from '../api/wire.js';
import { type CallContext, type Handler, infoReply, noContent, param } from './call.js';
import { type EmulatorCore, isDeviceKey, serverDevices } from './core.js';
import { counterKeys } from './drive-info.js';
import { busy, missing, usage } from './http-error.js';
import { DHCP_POOL, takeAddress } from './ip-pools.js';
import { oneOf, parseUuidList, UUID_RE, wholeNumber } from './keys.js';
import { type InfoBlock, rememberListKeys } from './list-keys.js';
import { type ServerRecord, zeroCounters } from './state.js';

const READ_ONLY = /^(server|user|status|started|smp:cores|nic:\d:dhcp:ip|vnc:ip|rx|tx|rx:packets|tx:packets|.*:(read|write):(bytes|requests))$/;

function validateServerKeys(body: ApiObject): ApiObject {
  const config: ApiObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'name' || key === 'vnc' || key === 'nic:0:dhcp') config[key] = value;
    else if (key === 'cpu' || key === 'mem') config[key] = wholeNumber(key, value);
    else if (key === 'smp') config[key] = value === 'auto' ? value : wholeNumber(key, value);
    else if (key === 'persistent') config[key] = oneOf(key, value, ['true', 'false']);
    else if (isDeviceKey(key)) config[key] = value === '' ? '' : parseUuidList(key, value);
    else if (key.endsWith(':media') && isDeviceKey(key.slice(0, -6))) config[key] = oneOf(key, value, ['disk', 'cdrom']);
    else if (key === 'boot') {
      for (const d of splitWords(value)) if (!isDeviceKey(d)) throw usage(`boot: "${d}" is not a device such as ide:0:0`);
      config[key] = value;
    } else if (/^nic:[0-3]:model$/.test(key)) config[key] = oneOf(key, value, ['e1000', 'rtl8139', 'virtio']);
    else if (/^nic:[1-3]:vlan$/.test(key) || /^nic:[0-3]:mac$/.test(key)) config[key] = value;
    else if (key === 'vnc:password') {
      if (value.length > 8) throw usage('vnc:password is at most 8 characters');
      config[key] = value;
    } else if (key === 'vnc:tls') config[key] = oneOf(key, value, ['on', 'off']);
    else if (key === 'tags') config[key] = splitWords(value).join(' ');
    else if (key === 'avoid:drives' || key === 'avoid:servers') config[key] = parseUuidList(key, value);
    else if (key.startsWith('user:') && key.length > 5) config[key] = value;
    else if (READ_ONLY.test(key)) continue;
    else throw usage(`unknown server key "${key}"`);
  }
  return config;
}

/** Checks that every attached drive exists for this account and that starting would not break a claim. */
async function checkDevices(core: EmulatorCore, server: ServerRecord, starting: boolean): Promise<void> {
  for (const device of serverDevices(server)) {
    const drive = server.config[device]!;
    if (drive === '') continue;
    if (!UUID_RE.test(drive)) throw usage(`${device}: "${drive}" is not one drive UUID`);
    const found = await core.readableDrive(server.user, drive);
    if (found.kind === 'library' || !starting) continue;
    const record = found.record;
    if (record.user !== server.user) throw missing(`drive ${drive} not found`);
    if (core.imagingDrives.has(drive)) throw busy(`drive ${drive} is being imaged; start the server when that is done`);
    const other = core.attachmentsOf(drive).find((a) => a.server.server !== server.server);
    const exclusive = (record.props['claim:type'] ?? 'exclusive') === 'exclusive';
    if (other && exclusive) throw busy(`drive ${drive} is claimed by running server ${other.server.server} (exclusive claim)`);
  }
}

function serverBlock(server: ServerRecord): InfoBlock {
  return { object: serverInfo(server), lists: server.lists };
}

function serverInfo(server: ServerRecord): ApiObject {
  const info: ApiObject = { smp: 'auto', persistent: 'false', ...server.config };
  for (const k of Object.keys(info)) if (info[k] === '') delete info[k];
  info.server = server.server;
  info.user = server.user;
  info.status = server.status;
  if (server.status === 'active') {
    info.started = String(server.started ?? 0);
    const cpu = Number(server.config.cpu ?? 2000);
    info['smp:cores'] = info.smp === 'auto' ? String(Math.max(1, Math.round(cpu / 2000))) : info.smp!;
    if (server.dhcpIp) info['nic:0:dhcp:ip'] = server.dhcpIp;
    if (server.vncIp) info['vnc:ip'] = server.vncIp;
    for (const k of ['rx', 'tx', 'rx:packets', 'tx:packets']) info[k] = '0';
    for (const device of serverDevices(server)) {
      Object.assign(info, counterKeys(server.io?.[device] ?? zeroCounters(), `${device}:`));
    }
  }
  return info;
}

export class ServerManager {
  private readonly shutdownTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly core: EmulatorCore) {}

  /** Re-arms the ACPI shutdowns a previous run left pending. */
  resume(): void {
    for (const server of Object.values(this.core.state.servers)) {
      if (server.shutdownAt !== undefined) this.armShutdown(server, server.shutdownAt - Date.now());
    }
  }

  stop(): void {
    for (const t of this.shutdownTimers.values()) clearTimeout(t);
    this.shutdownTimers.clear();
  }

  private own(ctx: CallContext): ServerRecord {
    const server = this.core.state.servers[param(ctx, 'server')];
    if (!server || server.user !== ctx.user) throw missing(`server ${param(ctx, 'server')} not found`);
    return server;
  }

  private activate(server: ServerRecord): void {
    server.status = 'active';
    server.started = Math.floor(Date.now() / 1000);
    const dhcp = server.config['nic:0:dhcp'];
    if (dhcp === 'auto') server.dhcpIp = takeAddress(this.core.state, DHCP_POOL);
    else if (dhcp) server.dhcpIp = dhcp;
    // The reference: `vnc auto` reuses nic:0:dhcp when there is one, else allocates an address at boot.
    const vnc = server.config.vnc;
    if (vnc === 'auto') server.vncIp = server.dhcpIp ?? takeAddress(this.core.state, DHCP_POOL);
    else if (vnc) server.vncIp = vnc;
  }

  /** Power off: a persistent server becomes `stopped`, any other one is destroyed. */
  private powerOff(server: ServerRecord): void {
    const timer = this.shutdownTimers.get(server.server);
    if (timer) clearTimeout(timer);
    this.shutdownTimers.delete(server.server);
    delete server.shutdownAt;
    delete server.started;
    delete server.dhcpIp;
    delete server.vncIp;
    delete server.io;
    if (server.config.persistent === 'true') server.status = 'stopped';
    else delete this.core.state.servers[server.server];
  }

  private armShutdown(server: ServerRecord, delayMs: number): void {
    const timer = setTimeout(() => {
      if (this.core.state.servers[server.server] !== server) return;
      this.powerOff(server);
      this.core.saver.saveLater();
    }, Math.max(0, delayMs));
    timer.unref();
    this.shutdownTimers.set(server.server, timer);
  }

  private requireActive(server: ServerRecord, action: string): void {
    if (server.status !== 'active') throw busy(`server ${server.server} is not running; cannot ${action} it`);
  }

  handlers(): Record<string, Handler> {
    const core = this.core;
    const save = () => core.saver.save();
    const listOwn = (ctx: CallContext) =>
      Object.values(core.state.servers)
        .filter((s) => s.user === ctx.user)
        .sort((a, b) => a.server.localeCompare(b.server));

    return {
      'servers.list': async (ctx) => ({ type: 'list', items: listOwn(ctx).map((s) => ({ server: s.server })) }),
      'servers.info': async (ctx) =>
        param(ctx, 'server')
          ? infoReply([serverBlock(this.own(ctx))], true)
          : infoReply(listOwn(ctx).map(serverBlock), false),
      'servers.create': async (ctx) => {
        const config = validateServerKeys(ctx.body);
        for (const key of ['name', 'cpu', 'mem']) if (!config[key]) throw usage(`server create needs ${key}`);
        const server: ServerRecord = { server: randomUUID(), user: ctx.user, config, status: 'stopped' };
        const starting = param(ctx, 'stopped') !== '1';
        await checkDevices(core, server, starting);
        if (starting) this.activate(server);
        rememberListKeys(server, server.config, ctx.body, ctx.lists);
        core.state.servers[server.server] = server;
        await save();
        return infoReply([serverBlock(server)], true);
      },
      'servers.set': async (ctx) => {
        const server = this.own(ctx);
        const config = validateServerKeys(ctx.body);
        const next: ServerRecord = { ...server, config: { ...server.config, ...config } };
        await checkDevices(core, next, server.status === 'active');
        server.config = next.config;
        rememberListKeys(server, server.config, ctx.body, ctx.lists);
        await save();
        return infoReply([serverBlock(server)], true);
      },
      'servers.start': async (ctx) => {
        const server = this.own(ctx);
        if (server.status === 'active') throw busy(`server ${server.server} is already running`);
        await checkDevices(core, server, true);
        this.activate(server);
        await save();
        return noContent;
      },
      'servers.stop': async (ctx) => {
        const server = this.own(ctx);
        this.requireActive(server, 'stop');
        this.powerOff(server);
        await save();
        return noContent;
      },
      'servers.shutdown': async (ctx) => {
        const server = this.own(ctx);
        this.requireActive(server, 'shut down');
        if (server.shutdownAt === undefined) {
          server.shutdownAt = Date.now() + core.limits.shutdownDelayMs;
          this.armShutdown(server, core.limits.shutdownDelayMs);
          await save();
        }
        return noContent;
      },
      'servers.reset': async (ctx) => {
        const server = this.own(ctx);
        this.requireActive(server, 'reset');
        server.started = Math.floor(Date.now() / 1000);
        await save();
        return noContent;
      },
      'servers.destroy': async (ctx) => {
        const server = this.own(ctx);
        if (server.status === 'active') this.powerOff(server);
        delete core.state.servers[server.server];
        await save();
        return noContent;
      },
    };
  }
}
