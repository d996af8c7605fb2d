/**
 * Renders drive info blocks (the API reference's "Get single drive info"; docs/emulator.md, "I/O counters"):
 * the keys always present, then the optional ones.
 */
import type { ApiObject } from '../api/wire.js';
import type { EmulatorCore } from './core.js';
import { ALL_READERS, LIBRARY_OWNER, type StandardImage } from './standard-library.js';
import type { DriveRecord, IoCounters } from './state.js';

export interface ImagingView {
  /** `/info/full` always shows the percentage. */
  full: boolean;
}

/** The cumulative I/O counter keys (`read:bytes`...), optionally prefixed (`ide:0:0:read:bytes`). */
export function counterKeys(c: IoCounters, prefix = ''): ApiObject {
  return {
    [`${prefix}read:bytes`]: String(c.readBytes),
    [`${prefix}read:requests`]: String(c.readRequests),
    [`${prefix}write:bytes`]: String(c.writeBytes),
    [`${prefix}write:requests`]: String(c.writeRequests),
  };
}

export function driveInfo(core: EmulatorCore, record: DriveRecord, view: ImagingView, imaging: string | undefined): ApiObject {
  const info: ApiObject = {
    'claim:type': 'exclusive',
    'encryption:cipher': 'aes-xts-plain',
    ...record.props,
    drive: record.drive,
    size: String(record.size),
    status: 'active',
    user: record.user,
    ...counterKeys(record.counters),
  };
  for (const k of ['readers', 'tags', 'avoid']) if (info[k] === '') delete info[k];
  const claims = core.claimsOf(record.drive);
  if (claims.length > 0) info.claimed = claims.join(' ');
  if (imaging !== undefined) {
    const flag = core.limits.imagingInfo === 'flag' && !view.full && imaging !== 'queued';
    info.imaging = flag ? 'true' : imaging;
  }
  return info;
}

export function libraryInfo(image: StandardImage, counters: IoCounters): ApiObject {
  return {
    'claim:type': 'shared',
    drive: image.drive,
    'encryption:cipher': 'none',
    format: 'gzip',
    media: image.media,
    name: image.name,
    rawsize: String(image.rawsize),
    readers: ALL_READERS,
    size: String(image.gzip.length),
    status: 'active',
    user: LIBRARY_OWNER,
    ...counterKeys(counters),
  };
}
