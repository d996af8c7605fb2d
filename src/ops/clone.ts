/**
 * Cloning a drive. Inside one account (same endpoint, same user) the API images the drive itself and no
 * byte passes through drivesnap; anywhere else the engine's copy moves the ranges (resumable from its
 * checkpoints in the jobs database). The clone's job record names its target before the drive is created,
 * so a rerun after a kill images (or copies) into the drive the first run made instead of making another.
 */
import type { ApiClient } from '../api/client.js';
import type { DriveInfo } from '../api/drive-info.js';
import type { JobRecord } from '../engine/checkpoint.js';

export type CloneMethod = 'imaging' | 'copy';

/** Server-side imaging only works inside one account of one endpoint. */
export function cloneMethod(source: Pick<ApiClient, 'url' | 'user'>, dest: Pick<ApiClient, 'url' | 'user'>): CloneMethod {
  return source.url === dest.url && source.user === dest.user ? 'imaging' : 'copy';
}

/** The jobs-database record of an imaging clone: what it records creating, and when it is finished. */
export function imagingJob(source: Pick<DriveInfo, 'uuid' | 'size'>, destAccount: string, name: string): JobRecord {
  return { key: `clone:${source.uuid}:${destAccount}:${name}`, info: { size: source.size } };
}

export interface ImagingCloneOptions {
  dest: Pick<ApiClient, 'imageDrive' | 'waitForImaging'>;
  source: Pick<DriveInfo, 'uuid'>;
  /** Creates the new drive, or adopts the one an interrupted run of this clone created (recording it). */
  createTarget: () => Promise<DriveInfo>;
  /** Called when the clone is done: its job record goes. */
  finished: () => void;
  onPercent?: (percent: number, drive: DriveInfo) => void;
  /** The stop signal: the wait ends (the API goes on imaging; a rerun adopts the drive and images again). */
  signal?: AbortSignal;
}

export interface ImagingCloneResult {
  drive: DriveInfo;
  elapsedMs: number;
}

/** Server-side imaging of the source into a new drive, waiting for it with its percentage reported. */
export async function cloneByImaging(o: ImagingCloneOptions): Promise<ImagingCloneResult> {
  const started = Date.now();
  o.signal?.throwIfAborted();
  const drive = await o.createTarget();
  await o.dest.imageDrive(drive.uuid, o.source.uuid);
  let last = -1;
  await o.dest.waitForImaging(
    drive.uuid,
    (percent) => {
      if (percent !== undefined && percent !== last) {
        last = percent;
        o.onPercent?.(percent, drive);
      }
    },
    { signal: o.signal },
  );
  o.finished();
  return { drive, elapsedMs: Date.now() - started };
}
