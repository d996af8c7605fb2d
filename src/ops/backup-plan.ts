/**
 * The decisions of a backup run, free of I/O so they are tested directly: which drives a tag selection
 * takes, what a snapshot records about the servers that were shut down for it, and the run's exit code.
 * `backup`, `run` and `migrate-server` all decide through here (./backup-orchestrator.ts runs the plan).
 */
import { hostname } from 'node:os';
import type { DriveInfo } from '../api/drive-info.js';
import { fileDriveId } from '../config/locations.js';
import type { BackupTarget } from '../engine/jobs/backup.js';
import { ExitCode } from '../errors.js';
import type { StoppedServer } from './server-shutdown.js';

/**
 * A tag selection takes a drive carrying ANY of the tags (`--tag-filter a --tag-filter b`, a job file's
 * `{ account, tags: [a, b] }`): tags name groups of drives, and naming two groups backs up both. No tags: all.
 */
export function carriesAnyTag(driveTags: readonly string[], wanted: readonly string[]): boolean {
  return wanted.length === 0 || driveTags.some((t) => wanted.includes(t));
}

/** The drives a tag selection takes, by name (then UUID), so runs go in a stable order. */
export function selectByTags<D extends Pick<DriveInfo, 'name' | 'uuid' | 'tags'>>(drives: readonly D[], wanted: readonly string[]): D[] {
  return drives
    .filter((d) => carriesAnyTag(d.tags, wanted))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** What a snapshot of an API drive records as its drive (the claim is decided when it is backed up). */
export function driveTarget(account: string, drive: Pick<DriveInfo, 'uuid' | 'name'>, endpoint: string): Omit<BackupTarget, 'claimed'> {
  return { driveUuid: drive.uuid, driveName: drive.name, account, endpoint };
}

/** An image file is recorded by its absolute path, so `--drive ./x.img` finds it from anywhere. */
export function fileTarget(path: string): Omit<BackupTarget, 'claimed'> {
  const id = fileDriveId(path);
  return { driveUuid: id, driveName: id.slice('file:'.length), account: 'file', endpoint: hostname() };
}

/** An image read from stdin (`backup -`): recorded as the drive `stdin` of this host, one history for all of them. */
export function stdinTarget(): Omit<BackupTarget, 'claimed'> {
  return { driveUuid: 'stdin', driveName: 'stdin', account: 'stdin', endpoint: hostname() };
}

/**
 * What the manifest records about a backup taken with the servers down: which servers, and whether each
 * was shut down cleanly (ACPI: file systems flushed) or powered off (a static, crash-consistent image).
 */
export function shutdownExtra(stopped: readonly StoppedServer[]): Record<string, unknown> {
  const methods = stopped.map((s) => s.method);
  return {
    serverShutdown: {
      consistency: methods.includes('power-off') ? 'power-off' : 'shutdown',
      servers: stopped.map((s) => ({ server: s.uuid, name: s.name, method: s.method })),
    },
  };
}

export interface RunTally {
  /** Drives the run meant to back up. */
  drives: number;
  /** Of those, how many failed. */
  failed: number;
  /** Problems `check` found (a damaged repository must page someone). */
  checkProblems?: number;
  /** A prune or other upkeep failed though the backups went well. */
  upkeepFailed?: boolean;
  /** A shard of a run (`run --shard K/N`) whose share of the drives is empty: that is not a failure. */
  emptyShare?: boolean;
}

/**
 * The one exit-code rule of a backup run: 0 when every drive was backed up; 3 (partial) when some failed
 * and some succeeded, or the backups succeeded and upkeep failed; 1 when every drive failed, or check
 * found problems (a run that selected nothing failed too, unless it is a shard whose share is empty).
 */
export function runExitCode(t: RunTally): number {
  if ((t.failed === t.drives && !(t.drives === 0 && t.emptyShare)) || (t.checkProblems ?? 0) > 0) return ExitCode.failure;
  if (t.failed > 0 || t.upkeepFailed) return ExitCode.partial;
  return ExitCode.ok;
}
