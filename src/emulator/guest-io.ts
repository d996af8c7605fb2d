/**
 * A running server's own disk I/O, for tests: the emulator runs no virtual machines, so these functions
 * (exposed as `simulateServerWrite` / `simulateServerRead` on the emulator handle) read and write a drive
 * the way a guest does: only while a running server has it attached, bypassing the API (so no claim or
 * `busy` check), moving the drive's cumulative counters and the server's per-device counters.
 */
import type { Attachment, EmulatorCore } from './core.js';
import { countIo, zeroCounters } from './state.js';

export class GuestIoError extends Error {
  override name = 'GuestIoError';
}

function attachment(core: EmulatorCore, drive: string, serverId: string | undefined): Attachment {
  const found = core.attachmentsOf(drive).find((a) => serverId === undefined || a.server.server === serverId);
  if (found) return found;
  const which = serverId === undefined ? 'any running server' : `running server ${serverId}`;
  throw new GuestIoError(`drive ${drive} is not attached to ${which}: create or start a server with it first`);
}

function checkRange(core: EmulatorCore, drive: string, offset: number, length: number): void {
  const record = core.state.drives[drive]!;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > record.size) {
    throw new GuestIoError(`guest I/O of ${length} bytes at offset ${offset} is outside drive ${drive} (${record.size} bytes)`);
  }
}

function countGuest(core: EmulatorCore, drive: string, at: Attachment, write: boolean, bytes: number): void {
  countIo(core.state.drives[drive]!.counters, write, bytes);
  at.server.io ??= {};
  at.server.io[at.device] ??= zeroCounters();
  countIo(at.server.io[at.device]!, write, bytes);
}

/** Writes `data` at `offset` as the guest of the running server that has the drive attached. */
export async function guestWrite(core: EmulatorCore, drive: string, offset: number, data: Uint8Array, server?: string): Promise<void> {
  const at = attachment(core, drive, server);
  checkRange(core, drive, offset, data.length);
  // As for API writes: the counters are on disk before the data changes.
  countGuest(core, drive, at, true, data.length);
  await core.saver.save();
  await core.writeDrive(drive, offset, data);
}

/** Reads `length` bytes at `offset` as the guest of the running server that has the drive attached. */
export async function guestRead(core: EmulatorCore, drive: string, offset: number, length: number, server?: string): Promise<Buffer> {
  const at = attachment(core, drive, server);
  checkRange(core, drive, offset, length);
  const data = await core.readDrive(drive, offset, length);
  countGuest(core, drive, at, false, data.length);
  core.saver.saveLater();
  return data;
}
