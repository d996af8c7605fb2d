/**
 * How long one HTTP exchange may take in all. An idle timeout alone never fires on a body that trickles
 * (each byte resets it), so every exchange also gets an overall deadline derived from the slowest link
 * drivesnap accepts: a fixed allowance for the round trip and the server's work, plus the bytes moved at
 * the minimum rate. A 4 MiB read at the defaults may take 10 s + 64 s. Pure.
 */
import { KiB } from '../util/size.js';

export interface MinimumRate {
  /** The slowest transfer accepted, in bytes per second. */
  bytesPerSecond: number;
  /** Allowed on top of the bytes' time: connection, headers, the server's own work. */
  baseMs: number;
}

export const DEFAULT_MINIMUM_RATE: Readonly<MinimumRate> = Object.freeze({ bytesPerSecond: 64 * KiB, baseMs: 10_000 });

/** The whole exchange's allowance, in ms, for `bytes` sent plus received. */
export function exchangeDeadlineMs(rate: MinimumRate, bytes: number): number {
  return rate.baseMs + Math.ceil((Math.max(0, bytes) * 1000) / rate.bytesPerSecond);
}

export function resolveMinimumRate(overrides: Partial<MinimumRate> | undefined): MinimumRate {
  const rate = {
    bytesPerSecond: overrides?.bytesPerSecond ?? DEFAULT_MINIMUM_RATE.bytesPerSecond,
    baseMs: overrides?.baseMs ?? DEFAULT_MINIMUM_RATE.baseMs,
  };
  if (!(rate.bytesPerSecond > 0) || !Number.isFinite(rate.bytesPerSecond)) {
    throw new RangeError(`the minimum transfer rate must be a number of bytes per second > 0, not ${rate.bytesPerSecond}`);
  }
  if (!(rate.baseMs >= 0) || !Number.isFinite(rate.baseMs)) {
    throw new RangeError(`the base allowance of a request must be a number of ms >= 0, not ${rate.baseMs}`);
  }
  return rate;
}
