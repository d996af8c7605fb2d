/**
 * The one backup orchestrator, used by `backup` and `run`: backs up a list of drives and image files into
 * one repository, up to `drives` at once, through the engine's `backup()`, reporting every step as one
 * event shape (each event names its drive; outcomes come back in the items' order whatever order they
 * finish in). The drives of one account in flight share its connection budget (`concurrency`, capped by
 * the client's own connections) fairly (./fair-budget.ts): a drive alone reads with all of it.
 * With `shutdown` (`--shutdown-server`), drives that share a running server are backed up in one stop of
 * it (./server-claims.ts, ./server-shutdown.ts), up to `drives` of the group at once; the groups of servers
 * go one after another, so only one group's servers are down at a time. Drives no server holds are backed
 * up as usual.
 *
 * With `lockWaitMs` (`run`, `backup --wait-lock`), a drive whose backup finds the repository locked
 * exclusively (another host's forget or prune, often only trying) waits for it rather than failing: hosts
 * sharing a repository (`run --shard`) would otherwise fail each other's drives.
 *
 * A drive that fails is recorded and the run goes on with the next; ./backup-plan.ts turns the outcomes
 * into the exit code. Two things stop the whole run instead: the stop signal (Ctrl-C, SIGTERM: no new
 * drive starts, servers held down are started again first) and a server that could not be started again.
 */
import type { DriveInfo } from '../api/drive-info.js';
import { gzipCodecLabel } from '../engine/codec.js';
import { DEFAULT_CONCURRENCY } from '../engine/defaults.js';
import type { BackupResult, BackupTarget } from '../engine/jobs/backup.js';
import { backup } from '../engine/jobs/backup.js';
import type { BlockSource } from '../engine/ends/types.js';
import type { Progress, ProgressSnapshot } from '../engine/progress.js';
import { DrivesnapError, errorMessage } from '../errors.js';
import { RepoLockedError } from '../repo/locks.js';
import type { Repository } from '../repo/repository.js';
import { TokenBucket } from '../store/bandwidth.js';
import { backoffDelayMs } from '../util/retry-policy.js';
import { abortableSleep } from '../util/stop-request.js';
import { shutdownExtra } from './backup-plan.js';
import { describeMadeBy, recordedStateFromExtra } from './change-detection.js';
import { FairBudget } from './fair-budget.js';
import { fairSource } from './fair-source.js';
import { incrementalBackup } from './incremental-source.js';
import { pacedSource } from './paced-source.js';
import { claimingServers, groupByServers } from './server-claims.js';
import { type ServerControlApi, type ServerEvent, type ServerStopOptions, type StoppedServer, withServersStopped } from './server-shutdown.js';

/** One thing to back up; opened only when its turn comes (so a failure to open is that item's failure). */
export interface BackupItem {
  /** What the user named (a location, or ACCOUNT:NAME of a selected drive): the events' `location`. */
  label: string;
  open(): Promise<OpenedBackup>;
}

export interface OpenedBackup {
  source: BlockSource;
  target: Omit<BackupTarget, 'claimed'>;
  /** For an API drive: the drive as the API described it when opened, and its account's client. */
  drive?: DriveInfo;
  client?: ServerControlApi & { driveInfo(uuid: string): Promise<DriveInfo>; readonly connections?: number };
}

export type BackupEvent =
  | ({
      event: 'snapshot';
      location: string;
      snapshot: string;
      claimed: boolean;
      /** How it was made (`full read`, `counters + 4 sampled`); API drives only. */
      made?: string;
      /** The repository's compression (`gzip:1`). */
      codec: string;
    } & ProgressSnapshot)
  | { event: 'error'; location: string; code: string; message: string }
  | { event: 'warning'; location: string; message: string }
  | ServerEvent;

const BACKUP_EVENTS: ReadonlySet<string> = new Set<BackupEvent['event']>([
  'snapshot',
  'error',
  'warning',
  'server-shutdown',
  'server-timeout',
  'server-power-off',
  'server-stopped',
  'server-starting',
  'server-started',
]);

/** Whether an event of a larger stream (a job file's run) is one of the orchestrator's. */
export function isBackupEvent(e: { event: string }): e is BackupEvent {
  return BACKUP_EVENTS.has(e.event);
}

export interface BackupOutcome {
  location: string;
  ok: boolean;
  snapshot?: string;
  /** The drive the snapshot records, and its account (set when ok). */
  driveUuid?: string;
  account?: string;
  /** The backup's figures (set when ok). */
  progress?: ProgressSnapshot;
  /** How the snapshot was made, for an API drive (`full read`, `counters + 4 sampled`). */
  made?: string;
  /** When the item's turn began and ended. */
  startedAt?: Date;
  finishedAt?: Date;
  error?: { code: string; message: string };
  /** The error itself, for a caller that makes a single location's error its own. */
  cause?: unknown;
}

export interface BackupRunOptions {
  repo: Repository;
  items: readonly BackupItem[];
  /** Tags for every new snapshot. */
  tags?: readonly string[];
  /** Ranges in flight for one drive, and the connection budget of each account (shared by its drives). */
  concurrency?: number;
  /** Drives backed up at once; default 1 (the commands default to DEFAULT_PARALLEL_DRIVES). */
  drives?: number;
  /** The stop signal (src/cli/stop.ts): no new drive or range starts once it fires. */
  signal?: AbortSignal;
  /** Bytes per second read from all the sources together at most (a job file's `bandwidthLimit`); default unlimited. */
  readBytesPerSecond?: number;
  /** Shut the servers holding the drives down by ACPI for the backup, then start them again. */
  shutdown?: Pick<ServerStopOptions, 'timeoutMs' | 'powerOffOnTimeout' | 'pollMs'>;
  onEvent?: (e: BackupEvent) => void;
  /** `--read-all`: read every API drive in full, even when its counters say it was not written. */
  readAll?: boolean;
  /** A job file's `fullReadEvery`: an API drive is read in full at least this often (default 7d). */
  fullReadEvery?: string;
  /** How long a drive waits for another host's exclusive lock (prune, forget) before failing; default 0. */
  lockWaitMs?: number;
  /** The clock the full-read policy is judged by (tests move it). */
  now?: () => Date;
  /** A progress display for one item, stopped when its backup ends (several run at once with `drives`). */
  progress?: (label: string) => { update(p: Progress): void; stop(): void };
}

/**
 * Drives backed up at once by `backup` and `run` unless told otherwise. Most drives of a nightly are
 * unwritten and cost a few round trips each (drive info, the sample check, the snapshot's commit), which
 * overlapping hides; the drives that did change share the connection budget, so more drives in flight
 * only split it thinner while each holds its own buffers (up to `concurrency` ranges). Four overlaps the
 * round trips of a fleet under WAN latency while each of the default 8 connections' shares stays >= 2.
 */
export const DEFAULT_PARALLEL_DRIVES = 4;

const LOCKED_BACKOFF = { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: 200, maxDelayMs: 5_000 };

/**
 * Backs every item up; returns one outcome per item, in order (an item named twice is backed up once).
 * Throws only as the module comment says.
 */
export async function backupAll(options: BackupRunOptions): Promise<BackupOutcome[]> {
  const o = { ...options, items: [...new Map(options.items.map((item) => [item.label, item])).values()] };
  const run = new BackupRun(o);
  if (!o.shutdown) {
    await run.eachAtOnce(o.items, (item) => run.attempt(item.label, async () => run.backupOne(item.label, await item.open())));
  } else {
    await run.withServersDown(o.shutdown);
  }
  return o.items.map((item) => run.outcomes.get(item.label) ?? { location: item.label, ok: false });
}

class BackupRun {
  readonly outcomes = new Map<string, BackupOutcome>();
  /** One connection budget per account, shared by its drives in flight. */
  private readonly budgets = new Map<string, FairBudget>();
  /** One read pace for the whole run (a job file's bandwidthLimit holds for all drives together). */
  private readonly pace: TokenBucket | undefined;
  /** How many of the repository's warnings have been reported (items finish in any order). */
  private warningsSeen: number;

  constructor(private readonly o: BackupRunOptions) {
    this.pace = o.readBytesPerSecond ? new TokenBucket(o.readBytesPerSecond) : undefined;
    this.warningsSeen = o.repo.warnings.length;
  }

  /**
   * Runs `work` for every item, up to `drives` at once, in the items' order. Once the stop signal fires no
   * new item starts; the items in flight end (their work sees the same signal) before this throws.
   */
  async eachAtOnce<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        this.checkStop();
        await work(items[next++]!);
      }
    };
    const workers = Math.max(1, Math.min(this.o.drives ?? 1, items.length));
    const ends = await Promise.allSettled(Array.from({ length: workers }, worker));
    const failed = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** A drive's reads: paced with the run's bandwidth limit, and within its account's connection budget. */
  private readsOf(opened: OpenedBackup): BlockSource {
    const paced = this.pace ? pacedSource(opened.source, this.pace, this.o.signal) : opened.source;
    if (!opened.client) return paced;
    const { account } = opened.target;
    let budget = this.budgets.get(account);
    if (!budget) {
      // The client opens no more connections than this; a larger budget would only queue in its pool.
      budget = new FairBudget(Math.min(this.o.concurrency ?? DEFAULT_CONCURRENCY, opened.client.connections ?? Number.POSITIVE_INFINITY));
      this.budgets.set(account, budget);
    }
    return fairSource(paced, budget, this.o.signal);
  }

  private emit(e: BackupEvent): void {
    this.o.onEvent?.(e);
  }

  checkStop(): void {
    throwIfStopped(this.o.signal);
  }

  private fail(location: string, err: unknown): void {
    if (this.outcomes.has(location)) return;
    const error = { code: (err as DrivesnapError).code ?? 'INTERNAL', message: errorMessage(err) };
    this.outcomes.set(location, { location, ok: false, error, cause: err });
    this.emit({ event: 'error', location, ...error });
  }

  /** Runs one item's work; a failure is that item's, unless the run is being stopped. */
  async attempt(location: string, work: () => Promise<void>): Promise<void> {
    const startedAt = new Date();
    try {
      await work();
    } catch (err) {
      // Stopped: the run ends with the one INTERRUPTED error, not a failure per drive.
      if (this.o.signal?.aborted) throw interrupted(this.o.signal);
      this.fail(location, err);
    } finally {
      const outcome = this.outcomes.get(location);
      if (outcome && outcome.finishedAt === undefined) Object.assign(outcome, { startedAt, finishedAt: new Date() });
    }
  }

  async backupOne(location: string, opened: OpenedBackup, stopped?: StoppedServer[]): Promise<void> {
    const { repo } = this.o;
    const view = this.o.progress?.(location);
    const source = this.readsOf(opened);
    try {
      const claimed = !stopped && (opened.drive?.claimed.length ?? 0) > 0;
      if (claimed) {
        this.emit({
          event: 'warning',
          location,
          message: `${location} is in use by a running server (${opened.drive!.claimed.join(' ')}): the backup is crash-consistent only`,
        });
      }
      const extra = stopped ? shutdownExtra(stopped) : claimed ? { claimedBy: opened.drive!.claimed } : {};
      const result = await this.whileLocked(location, () => this.backupSource(opened, source, claimed, extra, view)).finally(() => source.close());
      view?.stop();
      // With drives at once, a warning is reported by the drive that finishes first after it was raised.
      const warnings = repo.warnings.slice(this.warningsSeen);
      this.warningsSeen = repo.warnings.length;
      for (const message of warnings) this.emit({ event: 'warning', location, message });
      const made = describeMadeBy(recordedStateFromExtra(result.meta.extra ?? {})?.made);
      const progress = result.progress.snapshot();
      const { driveUuid, account } = opened.target;
      this.outcomes.set(location, { location, ok: true, snapshot: result.snapshotId, driveUuid, account, progress, ...(made ? { made } : {}) });
      const codec = gzipCodecLabel(repo.config.compression.level);
      this.emit({ event: 'snapshot', location, snapshot: result.snapshotId, claimed, ...(made ? { made } : {}), codec, ...progress });
    } finally {
      view?.stop();
    }
  }

  /**
   * Runs `work` again while it fails to take the repository's shared lock, up to `lockWaitMs` in all; the
   * first wait is a warning naming the holder, so a run that seems to hang says why.
   */
  private async whileLocked<T>(location: string, work: () => Promise<T>): Promise<T> {
    const waitMs = this.o.lockWaitMs ?? 0;
    const giveUpAt = performance.now() + waitMs;
    for (let retry = 1; ; retry++) {
      try {
        return await work();
      } catch (err) {
        const remaining = giveUpAt - performance.now();
        if (!(err instanceof RepoLockedError) || remaining <= 0) throw err;
        if (retry === 1) {
          this.emit({ event: 'warning', location, message: `${err.message.split(';')[0]}; waiting up to ${Math.round(waitMs / 1000)} s for it` });
        }
        await abortableSleep(Math.min(remaining, backoffDelayMs(LOCKED_BACKOFF, retry)), this.o.signal);
      }
    }
  }

  /**
   * An API drive whose counters prove it unwritten since its last snapshot (and whose sample matches) gets
   * a snapshot of the previous table without a full read (./incremental-source.ts); anything else, and
   * every image file, goes through the engine's backup.
   */
  private async backupSource(
    opened: OpenedBackup,
    source: BlockSource,
    claimed: boolean,
    extra: Record<string, unknown>,
    view: { update(p: Progress): void } | undefined,
  ): Promise<BackupResult> {
    const { repo } = this.o;
    const tags = this.o.tags ? [...this.o.tags] : undefined;
    let fullReadExtra: Record<string, unknown> = {};
    if (opened.drive && opened.client) {
      // Read just before the first range: a write after this moves the counters the next backup compares.
      const drive = await opened.client.driveInfo(opened.drive.uuid);
      const incremental = await incrementalBackup({
        repo,
        source,
        target: opened.target,
        drive,
        claimed,
        readAll: this.o.readAll,
        fullReadEvery: this.o.fullReadEvery,
        now: this.o.now?.(),
        signal: this.o.signal,
        tags,
        extra: { ...extra },
      });
      if (incremental.result) return incremental.result;
      fullReadExtra = incremental.fullReadExtra;
    }
    return backup({
      repo,
      source,
      target: { ...opened.target, claimed },
      tags,
      concurrency: this.o.concurrency,
      onProgress: view ? (p) => view.update(p) : undefined,
      signal: this.o.signal,
      extra: { ...extra, ...fullReadExtra },
    });
  }

  /** `shutdown`: every item opened first, then grouped by the servers holding them, one stop per group. */
  async withServersDown(shutdown: NonNullable<BackupRunOptions['shutdown']>): Promise<void> {
    type Opened = { label: string; opened: OpenedBackup };
    const opened: Opened[] = [];
    for (const item of this.o.items) {
      this.checkStop();
      await this.attempt(item.label, async () => void opened.push({ label: item.label, opened: await item.open() }));
    }
    const groups = groupByServers(
      opened.map((x) => ({ item: x, account: x.opened.target.account, servers: claimingServers(x.opened.drive?.claimed ?? []) })),
    );
    // Drives no server holds, between two groups of servers, are backed up together as usual.
    let free: Opened[] = [];
    const backUpFree = async () => {
      const batch = free;
      free = [];
      await this.eachAtOnce(batch, (x) => this.attempt(x.label, () => this.backupOne(x.label, x.opened)));
    };
    for (const group of groups) {
      const client = group.items[0]?.opened.client;
      if (group.servers.length === 0 || !client) {
        free.push(...group.items);
        continue;
      }
      await backUpFree();
      this.checkStop();
      try {
        await withServersStopped(
          client,
          group.servers,
          { ...shutdown, signal: this.o.signal, onEvent: (e) => this.emit(e) },
          (stopped) =>
            this.eachAtOnce(group.items, (x) =>
              this.attempt(x.label, async () => {
                await assertReleased(x.opened);
                await this.backupOne(x.label, x.opened, stopped);
              }),
            ),
        );
      } catch (err) {
        const code = (err as DrivesnapError).code;
        // The snapshots may well exist, but a server is down: that outranks everything else.
        if (code === 'SERVER_RESTART_FAILED' || code === 'INTERRUPTED' || this.o.signal?.aborted) throw err;
        // The servers could not be stopped: every drive of the group not yet counted fails with that reason.
        for (const x of group.items) this.fail(x.label, err);
      }
    }
    await backUpFree();
  }
}

/** After the stop, nothing may hold the drive (another server could have claimed it meanwhile). */
async function assertReleased(opened: OpenedBackup): Promise<void> {
  if (!opened.client || !opened.drive) return;
  const now = await opened.client.driveInfo(opened.drive.uuid);
  if (now.claimed.length > 0) {
    throw new DrivesnapError(
      'DRIVE_STILL_CLAIMED',
      `drive ${opened.drive.name} is still in use (${now.claimed.join(' ')}) after its servers were stopped; not backed up`,
    );
  }
}

/** The stop signal's reason when it fired: an INTERRUPTED error (exit 130). */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted(signal);
}

function interrupted(signal: AbortSignal): unknown {
  return signal.reason instanceof DrivesnapError ? signal.reason : new DrivesnapError('INTERRUPTED', 'interrupted: run the same command again to resume');
}
