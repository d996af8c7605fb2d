/**
 * Quotas and storage: a per-account limit on drive bytes and count (402 billing, *choice*) and an
 * emulator-wide limit on the total size of all drives (507 full). Sizes count as allocated when the drive
 * is created or resized, whether or not its sparse file holds data yet: what a provider bills.
 */
import type { EmulatorCore } from './core.js';
import { billing, full } from './http-error.js';

/** Checks that `user` may grow its drives by `addBytes` and its drive count by `addDrives`. */
export function checkAllocation(core: EmulatorCore, user: string, addBytes: number, addDrives: number): void {
  const account = core.accounts.get(user);
  if (account?.quotaDrives !== undefined && addDrives > 0 && core.driveCount(user) + addDrives > account.quotaDrives) {
    throw billing(`account quota of ${account.quotaDrives} drives reached; destroy a drive first`);
  }
  if (addBytes <= 0) return;
  if (account?.quotaBytes !== undefined && core.allocatedBytes(user) + addBytes > account.quotaBytes) {
    throw billing(`account quota of ${account.quotaBytes} bytes of drives would be exceeded`);
  }
  const limit = core.limits.storageLimitBytes;
  if (limit !== undefined && core.allocatedBytes() + addBytes > limit) {
    throw full(`out of storage: the emulator holds at most ${limit} bytes of drives`);
  }
}
