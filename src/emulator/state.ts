/** The emulator's persistent state: plain records, serialised whole to `state.json` (see persistence.ts). */
import type { ApiObject } from '../api/wire.js';

export interface IoCounters {
  readBytes: number;
  readRequests: number;
  writeBytes: number;
  writeRequests: number;
}

export interface DriveRecord {
  drive: string;
  user: string;
  size: number;
  /** Settable keys as given: name, claim:type, encryption:cipher, readers, tags, user:*, tier, avoid. */
  props: ApiObject;
  counters: IoCounters;
  /** Multi-valued keys last given as JSON lists (list-keys.ts). */
  lists?: string[];
}

export type ServerStatus = 'active' | 'stopped';

export interface ServerRecord {
  server: string;
  user: string;
  /** Configuration keys as given: name, cpu, mem, smp, persistent, devices, nics, vnc, tags, user:*. */
  config: ApiObject;
  /** Multi-valued keys last given as JSON lists (list-keys.ts). */
  lists?: string[];
  status: ServerStatus;
  /** Epoch seconds of the last start. */
  started?: number;
  /** Epoch ms when a pending ACPI shutdown completes. */
  shutdownAt?: number;
  dhcpIp?: string;
  /** Per-device I/O of the guest since the server started (test hook, guest-io.ts). */
  io?: Record<string, IoCounters>;
  /** The address the VNC console listens on while the server runs (`vnc auto` or an address). */
  vncIp?: string;
}

export type ResourceType = 'ip' | 'vlan';

export interface ResourceRecord {
  resource: string;
  type: ResourceType;
  user: string;
  props: ApiObject;
  /** Multi-valued keys last given as JSON lists (list-keys.ts). */
  lists?: string[];
}

export type ImagingConversion = 'none' | 'gzip' | 'gunzip';

export interface ImagingJobRecord {
  dst: string;
  src: string;
  conversion: ImagingConversion;
}

export interface EmulatorState {
  version: 1;
  drives: Record<string, DriveRecord>;
  servers: Record<string, ServerRecord>;
  /** Keyed by `TYPE/RESOURCE`. */
  resources: Record<string, ResourceRecord>;
  /** Imaging jobs not yet finished; a restart runs them again from the start. */
  imaging: ImagingJobRecord[];
  /** Index of the address last handed out from each pool (ip-pools.ts); -1 before the first. */
  ipCursors: { static: number; dhcp: number };
}

export function emptyState(): EmulatorState {
  return { version: 1, drives: {}, servers: {}, resources: {}, imaging: [], ipCursors: { static: -1, dhcp: -1 } };
}

export function zeroCounters(): IoCounters {
  return { readBytes: 0, readRequests: 0, writeBytes: 0, writeRequests: 0 };
}

/** Counts one read (`write` false) or write of `bytes` bytes. */
export function countIo(counters: IoCounters, write: boolean, bytes: number): void {
  if (write) {
    counters.writeBytes += bytes;
    counters.writeRequests++;
  } else {
    counters.readBytes += bytes;
    counters.readRequests++;
  }
}

export function newCounters(): IoCounters {
  // The contract: a new drive reports 4096 bytes / 1 request for each counter.
  return { readBytes: 4096, readRequests: 1, writeBytes: 4096, writeRequests: 1 };
}
