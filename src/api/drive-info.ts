/**
 * Drive info as typed values (api-contract.md, "Drives"). Pure. Accepts what real servers sent: counters
 * as strings or numbers, sizes with k/M/G/T suffixes, `imaging NN%` / `imaging queued` / `imaging true`.
 */
import { DrivesnapError } from '../errors.js';
import { parseSize } from '../util/size.js';
import { type ApiObject, splitWords } from './wire.js';

export interface ImagingState {
  /** Percentage done, when the server said one (`imaging 42%`); undefined for `queued` or `true`. */
  percent?: number;
  /** True while the job waits for another imaging job to finish. */
  queued: boolean;
}

export interface IoCounters {
  readBytes: number;
  readRequests: number;
  writeBytes: number;
  writeRequests: number;
}

export interface DriveInfo {
  uuid: string;
  name: string;
  /** Bytes. */
  size: number;
  status: string;
  /** Owner's user UUID. */
  user: string;
  /** `HOST:guest:SERVER:DEVICE` tokens while servers use the drive. */
  claimed: string[];
  /** `exclusive` (the default when absent) or `shared`. */
  claimType: string;
  readers: string[];
  tags: string[];
  /** Present while an imaging job writes into this drive. */
  imaging?: ImagingState;
  encryptionCipher?: string;
  tier?: string;
  /** `user:*` keys, without the `user:` prefix. */
  userData: Record<string, string>;
  /** The four counters below read 0 when the server sent none: use `ioCounters` to tell missing from 0. */
  readBytes: number;
  writeBytes: number;
  readRequests: number;
  writeRequests: number;
  /**
   * The cumulative I/O counters, set only when the server sent all four (`read:bytes`, `read:requests`,
   * `write:bytes`, `write:requests`) as whole numbers: absent means "unknown", which the engine must treat
   * as "changed" (issue 11: missing counters mean a full read). The API shows no "imaged since" mark;
   * imaging into a drive moves its `write:*` counters, and `imaging` shows a job in progress.
   */
  ioCounters?: IoCounters;
  /** Every key the server sent, as sent. */
  raw: ApiObject;
}

/** `42%` -> 42; `queued`/`true`/anything else -> undefined. */
export function parseImagingPercent(value: string): number | undefined {
  const m = /(\d+(?:\.\d+)?)\s*%/.exec(value);
  return m ? Number(m[1]) : undefined;
}

export function parseImaging(value: string | undefined): ImagingState | undefined {
  if (value === undefined) return undefined;
  const percent = parseImagingPercent(value);
  const state: ImagingState = { queued: /queued/i.test(value) };
  if (percent !== undefined) state.percent = percent;
  return state;
}

/** Counters may arrive as `"123"`, `123` (JSON, turned into a string by wire.ts) or be missing: 0. */
export function parseCounter(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  const n = Number(value.trim());
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** One counter when it is a whole number as sent (`"123"`, ` 123 `), else undefined. */
function strictCounter(value: string | undefined): number | undefined {
  const text = value?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** All four counters when every one is present and a whole number; undefined otherwise (never a partial set). */
export function parseIoCounters(obj: ApiObject): IoCounters | undefined {
  const readBytes = strictCounter(obj['read:bytes']);
  const readRequests = strictCounter(obj['read:requests']);
  const writeBytes = strictCounter(obj['write:bytes']);
  const writeRequests = strictCounter(obj['write:requests']);
  if (readBytes === undefined || readRequests === undefined || writeBytes === undefined || writeRequests === undefined) return undefined;
  return { readBytes, readRequests, writeBytes, writeRequests };
}

export function parseDriveInfo(obj: ApiObject): DriveInfo {
  const uuid = obj.drive;
  if (!uuid) throw new DrivesnapError('EH_BAD_RESPONSE', 'drive info without a `drive` key: the server answered something unexpected');
  const size = parseSize(obj.size ?? '');
  if (size === undefined) {
    throw new DrivesnapError('EH_BAD_RESPONSE', `drive ${uuid}: info has no valid size (got ${JSON.stringify(obj.size ?? null)})`);
  }
  const userData: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) if (k.startsWith('user:')) userData[k.slice(5)] = v;
  const info: DriveInfo = {
    uuid,
    name: obj.name ?? '',
    size,
    status: obj.status ?? '',
    user: obj.user ?? '',
    claimed: splitWords(obj.claimed),
    claimType: obj['claim:type'] || 'exclusive',
    readers: splitWords(obj.readers),
    tags: splitWords(obj.tags),
    userData,
    readBytes: parseCounter(obj['read:bytes']),
    writeBytes: parseCounter(obj['write:bytes']),
    readRequests: parseCounter(obj['read:requests']),
    writeRequests: parseCounter(obj['write:requests']),
    raw: obj,
  };
  const imaging = parseImaging(obj.imaging);
  if (imaging) info.imaging = imaging;
  const counters = parseIoCounters(obj);
  if (counters) info.ioCounters = counters;
  if (obj['encryption:cipher'] !== undefined) info.encryptionCipher = obj['encryption:cipher'];
  if (obj.tier !== undefined) info.tier = obj.tier;
  return info;
}
