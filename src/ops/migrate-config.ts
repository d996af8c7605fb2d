/**
 * The configuration a migrated server is created with: the source server's configuration keys (the ones
 * docs/api-contract.md lists), with the new drive UUIDs in its device slots, without its state (status,
 * counters, its own UUID), and without what belongs to the source account alone. Pure.
 */
import type { ApiObject } from '../api/wire.js';
import { splitWords } from '../api/wire.js';
import { DrivesnapError } from '../errors.js';

const DEVICE = /^(ide:[01]:[01]|scsi:0:[0-7]|block:[0-7])$/;
const DEVICE_MEDIA = /^(ide:[01]:[01]|scsi:0:[0-7]|block:[0-7]):media$/;
/** Configuration keys a server is created with (docs/api-contract.md, "Servers"), besides devices and user:*. */
const CONFIG = /^(name|cpu|smp|mem|persistent|boot|nic:[0-3]:(model|dhcp|vlan|mac)|vnc|vnc:password|vnc:tls|tags|avoid:drives|avoid:servers)$/;
/** What a server reports about itself while it runs: never configuration. */
const STATE =
  /^(server|user|status|started|smp:cores|claimed|nic:[0-3]:dhcp:ip|vnc:ip|rx|tx|rx:packets|tx:packets|.*:(read|write):(bytes|requests))$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface TranslateOptions {
  /** Old drive UUID -> new one; `null`: the device is left out (a library drive the destination lacks). */
  driveMap: Record<string, string | null>;
  /** Source and destination are one account: its IPs, VLANs and servers are valid there too. */
  sameAccount: boolean;
  /** Leave out `nic:N:mac`, so the destination assigns new MAC addresses. */
  newMacs?: boolean;
  /** Name of the new server; default the source's. */
  name?: string;
}

export interface Translated {
  config: ApiObject;
  /** Keys changed or left out for a reason the user should hear (never with their values: vnc:password). */
  notes: { key: string; note: string }[];
}

export function translateServerConfig(source: ApiObject, o: TranslateOptions): Translated {
  const config: ApiObject = {};
  const notes: Translated['notes'] = [];
  const droppedDevices = new Set<string>();
  for (const [key, value] of Object.entries(source)) {
    if (STATE.test(key)) continue;
    if (DEVICE.test(key)) {
      if (value === '') continue;
      const mapped = o.driveMap[value];
      if (mapped === undefined) {
        // Every device's drive is in the map (the migration built it from these keys): a gap is a bug.
        throw new DrivesnapError('INTERNAL', `no new drive for ${key} (${value})`);
      }
      if (mapped === null) {
        droppedDevices.add(key);
        notes.push({ key, note: `left out: drive ${value} is a library drive the destination does not have` });
      } else config[key] = mapped;
    } else if (DEVICE_MEDIA.test(key) || key.startsWith('user:') || CONFIG.test(key)) {
      config[key] = value;
    } else {
      notes.push({ key, note: 'left out: not a configuration key this tool knows' });
    }
  }
  for (const key of Object.keys(config)) {
    if (DEVICE_MEDIA.test(key) && droppedDevices.has(key.slice(0, -':media'.length))) delete config[key];
  }
  if (config.boot !== undefined) {
    const boot = splitWords(config.boot).filter((d) => !droppedDevices.has(d));
    if (boot.length > 0) config.boot = boot.join(' ');
    else delete config.boot;
  }
  if (o.name !== undefined) config.name = o.name;
  if (o.newMacs) {
    for (const key of Object.keys(config)) if (/^nic:[0-3]:mac$/.test(key)) delete config[key];
  }
  if (config['avoid:drives'] !== undefined) {
    // Drives migrated with the server are avoided under their new UUIDs; others exist only at the source.
    const kept = splitWords(config['avoid:drives'])
      .map((d) => (o.driveMap[d] === undefined ? (o.sameAccount ? d : null) : o.driveMap[d]))
      .filter((d): d is string => typeof d === 'string');
    if (kept.length > 0) config['avoid:drives'] = kept.join(' ');
    else delete config['avoid:drives'];
  }
  if (!o.sameAccount) {
    // IP and VLAN resources and other servers belong to the source account: invalid at the destination.
    const dhcp = config['nic:0:dhcp'];
    if (dhcp !== undefined && IPV4.test(dhcp)) {
      config['nic:0:dhcp'] = 'auto';
      notes.push({ key: 'nic:0:dhcp', note: `static IP ${dhcp} belongs to the source account: the new server gets one by DHCP (auto)` });
    }
    for (const key of Object.keys(config)) {
      if (/^nic:[0-3]:vlan$/.test(key)) {
        notes.push({ key, note: `left out: VLAN ${config[key]} belongs to the source account` });
        delete config[key];
      }
    }
    if (config['avoid:servers'] !== undefined) {
      notes.push({ key: 'avoid:servers', note: 'left out: those servers belong to the source account' });
      delete config['avoid:servers'];
    }
  }
  return { config, notes };
}

/** Device slot -> drive UUID of a server's info, in slot order. */
export function serverDrives(source: ApiObject): { device: string; drive: string; media?: string }[] {
  return Object.keys(source)
    .filter((k) => DEVICE.test(k) && source[k] !== '')
    .sort()
    .map((device) => {
      const media = source[`${device}:media`];
      return media === undefined ? { device, drive: source[device]! } : { device, drive: source[device]!, media };
    });
}
