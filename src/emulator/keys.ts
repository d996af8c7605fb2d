/**
 * Validation of request keys and values (docs/emulator.md, "Choices made where the contract leaves one":
 * Reads, Unknown keys): sizes with k/M/G/T suffixes, UUID lists, enumerations. Pure: throws
 * EmulatorHttpError `usage` naming the key and what it expects.
 */
import type { ApiObject } from '../api/wire.js';
import { splitWords } from '../api/wire.js';
import { parseSize } from '../util/size.js';
import { usage } from './http-error.js';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sizes, offsets and lengths: `^\d+[kMGT]?$`, 1024-based. */
export function parseSizeValue(what: string, text: string): number {
  const value = /^\d+[kmgt]?$/i.test(text) ? parseSize(text) : undefined;
  if (value === undefined) throw usage(`${what} "${text}" is not a size (bytes, optionally with k/M/G/T)`);
  return value;
}

export function parseUuidList(key: string, value: string): string {
  const words = splitWords(value);
  for (const w of words) if (!UUID_RE.test(w)) throw usage(`${key}: "${w}" is not a UUID`);
  return words.join(' ');
}

export function oneOf(key: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw usage(`${key} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value;
}

export function wholeNumber(key: string, value: string): string {
  if (!/^\d+$/.test(value)) throw usage(`${key} must be a whole number, not "${value}"`);
  return String(Number(value));
}

/** Keys an info block reports that a client may echo back in a set: ignored rather than refused. */
const DRIVE_READ_ONLY = /^(drive|user|status|claimed|imaging|format|rawsize|media|encryption:cipher|avoid|(read|write):(bytes|requests))$/;

/**
 * Checks a drive create/set body; returns the props to store and the new size (if given).
 * `creating` allows the keys only create takes (avoid, encryption:cipher).
 */
export function validateDriveKeys(body: ApiObject, creating: boolean): { props: ApiObject; size?: number } {
  const props: ApiObject = {};
  let size: number | undefined;
  for (const [key, value] of Object.entries(body)) {
    if (key === 'size') size = parseSizeValue('size', value);
    else if (key === 'name') props.name = value;
    else if (key === 'claim:type') props[key] = oneOf(key, value, ['exclusive', 'shared']);
    else if (key === 'readers') props[key] = parseUuidList(key, value);
    else if (key === 'tags') props[key] = splitWords(value).join(' ');
    else if (key === 'tier') props[key] = oneOf(key, value, ['disk', 'ssd']);
    else if (key.startsWith('user:') && key.length > 5) props[key] = value;
    else if (creating && key === 'encryption:cipher') props[key] = oneOf(key, value, ['none', 'aes-xts-plain']);
    else if (creating && key === 'avoid') props[key] = parseUuidList(key, value);
    else if (!creating && DRIVE_READ_ONLY.test(key)) continue;
    else throw usage(`unknown drive key "${key}"`);
  }
  return size === undefined ? { props } : { props, size };
}
