/**
 * Why the API refused to change a drive with `busy`: a running server claims it, an imaging job writes
 * into it, or neither (a transient `busy` worth retrying). Pure: the client fetches the drive info once
 * after a `busy` and asks `busyCause` what it means. Classified on the info's keys, never on the body text.
 */
import type { DriveInfo } from './drive-info.js';
import { DriveClaimedError, DriveImagingError } from './errors.js';

export interface DriveClaim {
  /** The claiming server's UUID. */
  server: string;
  /** Its device slot, e.g. `ide:0:0`. */
  device: string;
}

/** `HOST:guest:SERVER:DEVICE` tokens (DEVICE has colons itself) as claims; tokens of another shape are skipped. */
export function parseClaims(claimed: readonly string[]): DriveClaim[] {
  const out: DriveClaim[] = [];
  for (const token of claimed) {
    const parts = token.split(':');
    if (parts.length < 4 || parts[1] !== 'guest' || !parts[2]) continue;
    out.push({ server: parts[2], device: parts.slice(3).join(':') });
  }
  return out;
}

/**
 * The final error a `busy` stands for, or undefined when the drive is neither claimed nor imaging (retry).
 * `serverNames` maps server UUIDs to names where they are known, for the message.
 */
export function busyCause(call: string, info: DriveInfo, serverNames: ReadonlyMap<string, string> = new Map()): Error | undefined {
  const claims = parseClaims(info.claimed);
  if (claims.length > 0) return new DriveClaimedError(call, info.uuid, claims, serverNames);
  if (info.claimed.length > 0) return new DriveClaimedError(call, info.uuid, [], serverNames, info.claimed);
  if (info.imaging) return new DriveImagingError(call, info.uuid, info.imaging.percent);
  return undefined;
}
