/**
 * Migrating a server to another account, zone or provider: copy every drive its devices name (in
 * parallel, with the engine's resumable copy), then create the server there, stopped, with the same
 * configuration and the new drive UUIDs; optionally start it.
 *
 * Resumable as a whole: the old-to-new drive map, the drives already copied and the new server live in the
 * jobs database under one key, so a second run reuses the drives (and server) the first one created, skips
 * finished drives, and resumes unfinished ones from their own range checkpoints.
 *
 * Library drives (the provider's public images, e.g. an install CD-ROM in `ide:0:1`) are not copied: on the
 * same endpoint the new server uses the very same one; elsewhere a library drive of the same name and
 * media is used, and when there is none the device is left out (with a note).
 */
import pLimit from 'p-limit';
import type { ApiClient } from '../api/client.js';
import type { DriveInfo } from '../api/drive-info.js';
import { ApiError } from '../api/errors.js';
import type { ServerInfo } from '../api/servers.js';
import type { ApiParams } from '../api/params.js';
import { isUuid } from '../config/locations.js';
import { DrivesnapError } from '../errors.js';
import { DEFAULT_CONCURRENCY } from '../engine/defaults.js';
import { driveSink, driveSource } from '../engine/ends/drive.js';
import { copy } from '../engine/jobs/copy.js';
import type { Progress, ProgressSnapshot } from '../engine/progress.js';
import type { JobRecords } from '../repo/interfaces.js';
import { serverDrives, type Translated, translateServerConfig } from './migrate-config.js';
import { type ServerStopOptions, type StoppedServer, withServerStopped } from './server-shutdown.js';

export interface MigrateServerOptions {
  source: ApiClient;
  /** Account names, for descriptions and messages. */
  sourceAccount: string;
  dest: ApiClient;
  destAccount: string;
  /** The source server: a UUID or a unique name. */
  server: string;
  /** Where checkpoints and the migration's own state are kept (src/cli/jobs-db.ts). */
  jobs: JobRecords;
  /** Ranges in flight per drive; default DEFAULT_CONCURRENCY (8). */
  concurrency?: number;
  /** Drives copied at once; default 4. */
  parallelDrives?: number;
  compressLevel?: number;
  verify?: boolean;
  /** Start the new server once it exists. */
  start?: boolean;
  /** Name of the new server; default the source's. */
  name?: string;
  /** Let the destination assign new MAC addresses. */
  newMacs?: boolean;
  /** Shut the source server down for the copy (consistent drives); see server-shutdown.ts. */
  shutdown?: ServerStopOptions;
  onDriveProgress?: (drive: MigratePlanDrive, p: Progress) => void;
  onEvent?: (e: MigrateEvent) => void;
  signal?: AbortSignal;
}

export interface MigratePlanDrive {
  device: string;
  from: string;
  name: string;
  size: number;
  media?: string;
}

export type DriveAction = 'copied' | 'copied-earlier' | 'library-same' | 'library-matched' | 'library-left-out';

export interface MigratedDrive extends MigratePlanDrive {
  /** The new drive's UUID; null when the device was left out. */
  to: string | null;
  action: DriveAction;
  progress?: ProgressSnapshot;
}

export interface MigrateResult {
  sourceServer: string;
  server: string;
  name: string;
  drives: MigratedDrive[];
  started: boolean;
  /** The source server ran during the copy: each drive is crash-consistent, not a clean image. */
  crashConsistent: boolean;
  stoppedSource?: StoppedServer[];
  notes: Translated['notes'];
}

export type MigrateEvent =
  | { event: 'warning'; message: string }
  | { event: 'drive-created' | 'drive-reused'; device: string; from: string; to: string }
  | { event: 'drive-copied'; device: string; from: string; to: string; progress: ProgressSnapshot }
  | { event: 'server-created' | 'server-reused' | 'server-started'; server: string };

/** What a migration remembers between runs (the jobs database row's info). */
interface MigrationState {
  drives: Record<string, string>;
  done: string[];
  server?: string;
  /**
   * Source drive -> the destination drives of the same name that existed before this job asked for a new
   * one: recorded before the create call, so a run killed before it learnt the new UUID adopts the drive
   * of that name that is not among these (and only that one) instead of creating a second.
   */
  creating?: Record<string, string[]>;
}

export async function migrateServer(o: MigrateServerOptions): Promise<MigrateResult> {
  const emit = (e: MigrateEvent) => o.onEvent?.(e);
  const server = await resolveServer(o.source, o.server);
  const key = `migrate-server:${o.source.url}|${o.source.user}|${server.uuid}->${o.dest.url}|${o.dest.user}`;
  const state = loadState(o.jobs, key);
  const save = () => o.jobs.beginJob(key, { ...state });
  save();

  const devices = serverDrives(server.raw);
  const library = await libraryUuids(o.source);
  const sameEndpoint = o.source.url === o.dest.url;
  const plan: MigratePlanDrive[] = [];
  const outcome = new Map<string, MigratedDrive>();
  for (const d of devices) {
    const info = await o.source.driveInfo(d.drive);
    const p: MigratePlanDrive = { device: d.device, from: d.drive, name: info.name, size: info.size };
    if (d.media !== undefined) p.media = d.media;
    if (library.has(d.drive)) outcome.set(d.device, await libraryDrive(o, p, info, sameEndpoint));
    else plan.push(p);
  }

  const crashConsistent = server.status === 'active' && !o.shutdown && plan.length > 0;
  if (crashConsistent) {
    emit({
      event: 'warning',
      message: `server ${server.name || server.uuid} is running: its drives are copied crash-consistent, as after a power cut (use --shutdown-server for a clean copy)`,
    });
  }
  const copyAll = () => copyDrives(o, plan, state, save, outcome);
  let stoppedSource: StoppedServer[] | undefined;
  if (o.shutdown && plan.length > 0) {
    await withServerStopped(o.source, server.uuid, { ...o.shutdown, signal: o.signal }, async (stopped) => {
      stoppedSource = stopped;
      await copyAll();
    });
  } else await copyAll();

  const drives = devices.map((d) => outcome.get(d.device)!);
  const driveMap: Record<string, string | null> = {};
  for (const d of drives) driveMap[d.from] = d.to;
  const translated = translateServerConfig(server.raw, {
    driveMap,
    sameAccount: sameEndpoint && o.source.user === o.dest.user,
    newMacs: o.newMacs,
    name: o.name,
  });
  for (const n of translated.notes) emit({ event: 'warning', message: `${n.key}: ${n.note}` });

  const created = await createOrReuseServer(o.dest, state, translated.config, emit);
  save();
  let started = false;
  if (o.start) {
    if ((await o.dest.serverInfo(created)).status !== 'active') await o.dest.startServer(created);
    started = true;
    emit({ event: 'server-started', server: created });
  }
  o.jobs.endJob(key);
  const result: MigrateResult = {
    sourceServer: server.uuid,
    server: created,
    name: translated.config.name ?? server.name,
    drives,
    started,
    crashConsistent,
    notes: translated.notes,
  };
  if (stoppedSource) result.stoppedSource = stoppedSource;
  return result;
}

async function resolveServer(client: ApiClient, nameOrUuid: string): Promise<ServerInfo> {
  if (isUuid(nameOrUuid)) return client.serverInfo(nameOrUuid);
  const matches = (await client.listServerInfo()).filter((s) => s.name === nameOrUuid);
  if (matches.length === 1) return matches[0]!;
  throw new DrivesnapError(
    matches.length === 0 ? 'SERVER_NOT_FOUND' : 'SERVER_AMBIGUOUS',
    matches.length === 0
      ? `no server named ${JSON.stringify(nameOrUuid)} at ${client.url}`
      : `${matches.length} servers are named ${JSON.stringify(nameOrUuid)} (${matches.map((s) => s.uuid).join(', ')}); name one by its UUID`,
  );
}

function loadState(jobs: JobRecords, key: string): MigrationState {
  const info = jobs.jobInfo(key) as Partial<MigrationState> | undefined;
  const state: MigrationState = { drives: { ...(info?.drives ?? {}) }, done: [...(info?.done ?? [])], creating: { ...(info?.creating ?? {}) } };
  if (typeof info?.server === 'string') state.server = info.server;
  return state;
}

async function libraryUuids(client: ApiClient): Promise<Set<string>> {
  try {
    return new Set(await client.listStandardDrives());
  } catch (err) {
    // A provider without a public library: then no drive is a library drive.
    if (err instanceof ApiError && err.word === 'missing') return new Set();
    throw err;
  }
}

async function libraryDrive(o: MigrateServerOptions, p: MigratePlanDrive, info: DriveInfo, sameEndpoint: boolean): Promise<MigratedDrive> {
  if (sameEndpoint) return { ...p, to: p.from, action: 'library-same' };
  let candidates: DriveInfo[] = [];
  try {
    candidates = await o.dest.listStandardDriveInfo();
  } catch (err) {
    if (!(err instanceof ApiError && err.word === 'missing')) throw err;
  }
  const media = info.raw.media;
  const match = candidates.find((c) => c.name === info.name && c.raw.media === media);
  return match ? { ...p, to: match.uuid, action: 'library-matched' } : { ...p, to: null, action: 'library-left-out' };
}

/** The properties of the source drive that the new one is created with (its data is copied after). */
function driveProps(info: DriveInfo): ApiParams {
  const props: ApiParams = { name: info.name, size: info.size };
  if (info.raw['claim:type'] !== undefined) props['claim:type'] = info.claimType;
  if (info.tags.length > 0) props.tags = info.tags;
  if (info.encryptionCipher !== undefined) props['encryption:cipher'] = info.encryptionCipher;
  if (info.tier !== undefined) props.tier = info.tier;
  for (const [k, v] of Object.entries(info.userData)) props[`user:${k}`] = v;
  return props;
}

async function copyDrives(
  o: MigrateServerOptions,
  plan: MigratePlanDrive[],
  state: MigrationState,
  save: () => void,
  outcome: Map<string, MigratedDrive>,
): Promise<void> {
  const limit = pLimit(o.parallelDrives ?? 4);
  const settled = await Promise.allSettled(
    plan.map((p) =>
      limit(async () => {
        if (o.signal?.aborted) throw o.signal.reason;
        const { uuid, createdNow } = await destDrive(o, p, state, save);
        if (state.done.includes(p.from)) {
          outcome.set(p.device, { ...p, to: uuid, action: 'copied-earlier' });
          return;
        }
        const result = await copy({
          // UUIDs in the descriptions: they key the range checkpoints, and names need not be unique.
          source: driveSource({ api: o.source, uuid: p.from, size: p.size, description: `${o.sourceAccount}:${p.from}` }),
          sink: driveSink({
            api: o.dest,
            uuid,
            size: p.size,
            description: `${o.destAccount}:${uuid}`,
            // Only a drive created in this run is known to read as zeros: one from an earlier run may hold
            // ranges written after its last checkpoint, so those are compared before being skipped.
            startsZeroed: createdNow,
            compressLevel: o.compressLevel,
          }),
          jobs: o.jobs,
          concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
          verify: o.verify,
          signal: o.signal,
          onProgress: (pr) => o.onDriveProgress?.(p, pr),
        });
        // copy() does not itself fail when interrupted: never call an interrupted drive finished.
        if (o.signal?.aborted) throw o.signal.reason;
        state.done.push(p.from);
        save();
        const progress = result.progress.snapshot();
        outcome.set(p.device, { ...p, to: uuid, action: 'copied', progress });
        o.onEvent?.({ event: 'drive-copied', device: p.device, from: p.from, to: uuid, progress });
      }),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The destination drive of an earlier run when it still exists, else a new one (recorded at once). */
async function destDrive(
  o: MigrateServerOptions,
  p: MigratePlanDrive,
  state: MigrationState,
  save: () => void,
): Promise<{ uuid: string; createdNow: boolean }> {
  const earlier = state.drives[p.from];
  if (earlier !== undefined) {
    try {
      const info = await o.dest.driveInfo(earlier);
      if (info.size >= p.size) {
        o.onEvent?.({ event: 'drive-reused', device: p.device, from: p.from, to: earlier });
        return { uuid: earlier, createdNow: false };
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.word === 'missing')) throw err;
    }
    // Gone (or resized) since: start that drive over.
    state.done = state.done.filter((d) => d !== p.from);
  }
  const props = driveProps(await o.source.driveInfo(p.from)) as { name: string; size: number } & ApiParams;
  const sameName = async () => (await o.dest.listDriveInfo()).filter((d) => d.name === props.name);
  state.creating ??= {};
  const creating = state.creating;
  const before = creating[p.from];
  if (before !== undefined) {
    const ours = Object.values(state.drives);
    const made = (await sameName()).filter((d) => !before.includes(d.uuid) && !ours.includes(d.uuid));
    if (made.length === 1 && made[0]!.size >= p.size) {
      state.drives[p.from] = made[0]!.uuid;
      delete creating[p.from];
      save();
      o.onEvent?.({ event: 'drive-reused', device: p.device, from: p.from, to: made[0]!.uuid });
      return { uuid: made[0]!.uuid, createdNow: true };
    }
  }
  creating[p.from] = (await sameName()).map((d) => d.uuid);
  save();
  const created = await o.dest.createDrive(props);
  state.drives[p.from] = created.uuid;
  delete creating[p.from];
  save();
  o.onEvent?.({ event: 'drive-created', device: p.device, from: p.from, to: created.uuid });
  return { uuid: created.uuid, createdNow: true };
}

async function createOrReuseServer(
  dest: ApiClient,
  state: MigrationState,
  config: Record<string, string>,
  emit: (e: MigrateEvent) => void,
): Promise<string> {
  if (state.server !== undefined) {
    try {
      await dest.serverInfo(state.server);
      emit({ event: 'server-reused', server: state.server });
      return state.server;
    } catch (err) {
      if (!(err instanceof ApiError && err.word === 'missing')) throw err;
    }
  }
  const created = await dest.createServer(config, { stopped: true });
  state.server = created.uuid;
  emit({ event: 'server-created', server: created.uuid });
  return created.uuid;
}
