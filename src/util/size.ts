/** Sizes as the drive API writes them: bytes with an optional 1024-based k/M/G/T suffix. */
const SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const SIZE_RE = /^(\d+)([kmgt]?)$/i;

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Parses `4M`, `10G`, `4194304`; returns undefined for anything else (callers decide how to complain). */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const m = SIZE_RE.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * SUFFIX[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Human-readable bytes, 1024-based, as restic and borg print them (`1.5 GiB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  // Whole bytes print as they are; fractions (a rate of 200 B in 3 s) get the same 2-3 digits as the other units.
  if (unit === 0 && Number.isInteger(bytes)) return `${bytes} B`;
  return `${value.toFixed(Math.abs(value) < 10 ? 2 : 1)} ${units[unit]}`;
}

/** A rate in bytes per second, e.g. `66.7 B/s`, `1.50 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}
