/** The emulator's public option and handle types (see index.ts for the entry point). */
import type { FaultSpec } from './faults.js';
import type { WanSpec } from './wan.js';

export interface EmulatorAccount {
  user: string;
  secret: string;
  /** Largest total of drive sizes this account may own (402 billing beyond it). */
  quotaBytes?: number;
  /** Largest number of drives this account may own (402 billing beyond it). */
  quotaDrives?: number;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default: a fresh temp dir, removed by close(). */
  dataDir?: string;
  /** Default: the accounts saved in dataDir, else one account with a random UUID and secret. */
  accounts?: EmulatorAccount[];
  /** Emulator-wide limit on the total size of all drives (507 full beyond it). */
  storageLimitBytes?: number;
  /** Decoded bytes accepted by one write call; default 16 MiB (DEFAULT_MAX_WRITE_BYTES). */
  maxWriteBytes?: number;
  faults?: FaultSpec;
  /** A simulated WAN: latency per request, bandwidth per account (wan.ts). Default: none. */
  wan?: WanSpec;
  /** Throttles imaging so progress is observable; default unlimited. */
  imagingBytesPerSec?: number;
  /** How long an ACPI shutdown takes before the server stops; default 200 ms. */
  shutdownDelayMs?: number;
  /**
   * What `/info` shows while imaging: `percent` (`imaging 42%`, the 2009-12 servers, default) or `flag`
   * (`imaging true`, later servers). `/info/full` always shows the percentage.
   */
  imagingInfo?: 'percent' | 'flag';
}

export interface EmulatorStats {
  requests: number;
  faultsInjected: number;
  readRequests: number;
  readBytes: number;
  writeRequests: number;
  /** Decoded (drive) bytes written. */
  writeBytes: number;
}

export interface Emulator {
  /** e.g. http://127.0.0.1:PORT/ */
  url: string;
  accounts: EmulatorAccount[];
  dataDir: string;
  setFaults(spec: FaultSpec | undefined): void;
  /** Replaces the WAN simulation (undefined: none), like setFaults; throws RangeError on a bad value. */
  setWan(spec: WanSpec | undefined): void;
  /**
   * Test hook: writes `data` at `offset` into a drive as the guest of a running server that has it attached
   * (`server` picks one when several share it) would: no API call, no claim check, and the drive's
   * cumulative `write:*` counters (and the server's per-device ones) move. Rejects with GuestIoError when
   * no running server has the drive attached or the range is outside it.
   */
  simulateServerWrite(drive: string, offset: number, data: Uint8Array, server?: string): Promise<void>;
  /** Test hook: the guest reads `length` bytes at `offset`; moves the `read:*` counters. */
  simulateServerRead(drive: string, offset: number, length: number, server?: string): Promise<Buffer>;
  stats(): EmulatorStats;
  resetStats(): void;
  close(): Promise<void>;
}

export const DEFAULT_MAX_WRITE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_DELAY_MS = 200;
/** The contract's cap on one read call. */
export const MAX_READ_BYTES = 4 * 1024 * 1024;
