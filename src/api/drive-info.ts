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
  readBytes: number;
  writeBytes: number;
  readRequests: number;
  writeRequests: number;
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
  if (obj['encryption:cipher'] !== undefined) info.encryptionCipher = obj['encryption:cipher'];
  if (obj.tier !== undefined) info.tier = obj.tier;
  return info;
}
