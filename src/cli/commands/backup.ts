import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { DrivesnapError, ExitCode, UsageError, errorMessage } from '../../errors.js';
import { fileDriveId } from '../../config/locations.js';
import { backup } from '../../engine/jobs/backup.js';
import { claimingServers, groupByServers } from '../../ops/server-claims.js';
import { guardInterrupts } from '../../ops/server-interrupt.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, type ServerEvent, type StoppedServer, withServersStopped } from '../../ops/server-shutdown.js';
import type { Repository } from '../../repo/repository.js';
import { Clients, type OpenedSource, openSource } from '../open-ends.js';
import { Output } from '../output.js';
import { progressView, summarize } from '../progress-view.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';
import { concurrency, shutdownTimeout, withNumbers } from '../options.js';

interface BackupArgs extends RepoArgs {
  locations: string[];
  tag?: string[];
  all?: string;
  'tag-filter'?: string[];
  concurrency: number;
  'shutdown-server': boolean;
  'stop-server': boolean;
  'shutdown-timeout'?: number;
}

export const command: CommandModule<object, BackupArgs> = {
  command: 'backup [locations..]',
  describe: 'Back up drives or image files into new snapshots (incremental: only new chunks are stored)',
  builder: (y) =>
    withNumbers(withRepoOptions(y), {
      concurrency: concurrency(),
      'shutdown-timeout': shutdownTimeout('With --shutdown-server: seconds to wait for the server to stop (default 300)'),
    })
      .positional('locations', { type: 'string', array: true, description: 'ACCOUNT:DRIVE or an image file path' })
      .option('tag', { type: 'string', array: true, description: 'Tag the new snapshots (repeatable)' })
      .option('all', { type: 'string', description: 'Back up every drive of ACCOUNT: (with --tag-filter to narrow)' })
      .option('tag-filter', { type: 'string', array: true, description: 'With --all: only drives carrying this tag' })
      .option('shutdown-server', {
        type: 'boolean',
        default: false,
        description: 'Shut down (ACPI) the persistent servers using the drives, back up, start them again: consistent backups',
      })
      .option('stop-server', {
        type: 'boolean',
        default: false,
        description: 'With --shutdown-server: power the server off when the shutdown times out, instead of refusing',
      }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const locations = [...(args.locations ?? [])];
    const shutdown = args['shutdown-server'];
    if (!shutdown && (args['stop-server'] || args['shutdown-timeout'] !== undefined)) {
      throw new UsageError('--stop-server and --shutdown-timeout only apply with --shutdown-server');
    }
    const clients = new Clients(args.concurrency);
    // While we may hold servers stopped, the first Ctrl-C aborts the work so they are started again.
    const guard = shutdown ? guardInterrupts(() => process.stderr.write('drivesnap: interrupted; starting stopped servers again (Ctrl-C again to quit now)\n')) : undefined;
    try {
      if (args.all) locations.push(...(await allDrives(args.all, args['tag-filter'] ?? [], clients)));
      if (locations.length === 0) throw new UsageError('name what to back up: ACCOUNT:DRIVE, a file path, or --all ACCOUNT:');
      const failed: string[] = [];
      const run: Run = { args, out, repo: undefined as unknown as Repository, failed, single: locations.length === 1, signal: guard?.signal };
      await withRepository(args, async (repo) => {
        run.repo = repo;
        if (!shutdown) {
          for (const text of locations) await attempt(run, text, async () => backupOne(run, text, await openSource(text, clients)));
          return;
        }
        await backupWithServersStopped(run, locations, clients);
      });
      if (failed.length > 0) {
        process.exitCode = failed.length === locations.length ? ExitCode.failure : ExitCode.partial;
      }
    } finally {
      guard?.release();
      await clients.close();
    }
  },
};

interface Run {
  args: BackupArgs;
  out: Output;
  repo: Repository;
  failed: string[];
  /** One location: its error is the command's error (exit code and message), as before. */
  single: boolean;
  signal: AbortSignal | undefined;
}

/** Runs one location's work; a failure is reported and counted, and rethrown when it is the only location. */
async function attempt(run: Run, text: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    run.failed.push(text);
    run.out.event({ event: 'error', location: text, code: (err as DrivesnapError).code ?? 'INTERNAL', message: errorMessage(err) });
    process.stderr.write(`drivesnap: backup of ${text} failed: ${errorMessage(err)}\n`);
    // An interrupt stops the whole run: no further server may be shut down.
    if (run.single || run.signal?.aborted) throw err;
  }
}

async function backupOne(run: Run, text: string, opened: OpenedSource, stopped?: StoppedServer[]): Promise<void> {
  const { out } = run;
  const view = progressView(out, text);
  try {
    const claimed = !stopped && (opened.drive?.claimed.length ?? 0) > 0;
    if (claimed) {
      out.warn(`${text} is in use by a running server (${opened.drive!.claimed.join(' ')}): the backup is crash-consistent only`);
    }
    const warned = run.repo.warnings.length;
    const result = await backup({
      repo: run.repo,
      source: opened.source,
      target: targetOf(opened, claimed),
      tags: run.args.tag,
      concurrency: run.args.concurrency,
      onProgress: (p) => view.update(p),
      signal: run.signal,
      extra: stopped ? shutdownExtra(stopped) : claimed ? { claimedBy: opened.drive!.claimed } : {},
    }).finally(() => opened.source.close());
    view.stop();
    for (const w of run.repo.warnings.slice(warned)) out.warn(w);
    const s = result.progress.snapshot();
    out.event({ event: 'snapshot', location: text, snapshot: result.snapshotId, ...s });
    out.info(`${summarize(`snapshot ${result.snapshotId.slice(0, 12)} of ${text}`, s)}`);
  } finally {
    view.stop();
  }
}

/**
 * What the manifest records about a backup taken with the servers down: which servers, and whether each
 * was shut down cleanly (ACPI: file systems flushed) or powered off (a static, crash-consistent image).
 */
function shutdownExtra(stopped: StoppedServer[]): Record<string, unknown> {
  const methods = stopped.map((s) => s.method);
  return {
    serverShutdown: {
      consistency: methods.includes('power-off') ? 'power-off' : 'shutdown',
      servers: stopped.map((s) => ({ server: s.uuid, name: s.name, method: s.method })),
    },
  };
}

/**
 * `--shutdown-server`: drives that share a server are backed up in one stop of it; drives no running
 * server holds are backed up as usual. A server that cannot be stopped fails its drives only.
 */
async function backupWithServersStopped(run: Run, locations: string[], clients: Clients): Promise<void> {
  const opened: { text: string; source: OpenedSource }[] = [];
  for (const text of locations) await attempt(run, text, async () => void opened.push({ text, source: await openSource(text, clients) }));
  const groups = groupByServers(
    opened.map((o) => ({
      item: o,
      account: o.source.location.kind === 'drive' ? o.source.location.account : '',
      servers: claimingServers(o.source.drive?.claimed ?? []),
    })),
  );
  for (const group of groups) {
    if (run.signal?.aborted) throw run.signal.reason;
    if (group.servers.length === 0) {
      for (const o of group.items) await attempt(run, o.text, () => backupOne(run, o.text, o.source));
      continue;
    }
    const client = await clients.get(group.account);
    const texts = group.items.map((o) => o.text);
    const work = withServersStopped(
      client,
      group.servers,
      {
        timeoutMs: (run.args['shutdown-timeout'] ?? DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000) * 1000,
        powerOffOnTimeout: run.args['stop-server'],
        signal: run.signal,
        onEvent: (e) => reportServer(run.out, e),
      },
      async (stopped) => {
        for (const o of group.items) {
          await attempt(run, o.text, async () => {
            await assertReleased(o.source);
            await backupOne(run, o.text, o.source, stopped);
          });
        }
      },
    );
    try {
      await work;
    } catch (err) {
      const code = (err as DrivesnapError).code;
      // The snapshots may well exist, but a server is down: that outranks everything else.
      if (code === 'SERVER_RESTART_FAILED' || code === 'INTERRUPTED') throw err;
      // The servers could not be stopped: every drive of the group not yet counted fails with that reason.
      const fresh = texts.filter((t) => !run.failed.includes(t));
      for (const t of fresh) {
        run.failed.push(t);
        run.out.event({ event: 'error', location: t, code: code ?? 'INTERNAL', message: errorMessage(err) });
      }
      if (run.single || fresh.length === 0) throw err;
      process.stderr.write(`drivesnap: backup of ${fresh.join(', ')} failed: ${errorMessage(err)}\n`);
    }
  }
}

/** After the stop, nothing may hold the drive (another server could have claimed it meanwhile). */
async function assertReleased(opened: OpenedSource): Promise<void> {
  if (!opened.client || !opened.drive) return;
  const now = await opened.client.driveInfo(opened.drive.uuid);
  if (now.claimed.length > 0) {
    throw new DrivesnapError(
      'DRIVE_STILL_CLAIMED',
      `drive ${opened.drive.name} is still in use (${now.claimed.join(' ')}) after its servers were stopped; not backed up`,
    );
  }
}

function reportServer(out: Output, e: ServerEvent): void {
  out.event({ ...e });
  const label = e.name ? `${e.name} (${e.server})` : e.server;
  const text: Record<ServerEvent['event'], string> = {
    'server-shutdown': `shutting down server ${label} (ACPI)`,
    'server-timeout': `server ${label} did not shut down in time`,
    'server-power-off': `powering off server ${label}`,
    'server-stopped': `server ${label} is stopped`,
    'server-starting': `starting server ${label} again`,
    'server-started': `server ${label} is running again`,
  };
  out.info(text[e.event]);
}

function targetOf(opened: OpenedSource, claimed: boolean) {
  const loc = opened.location;
  if (loc.kind === 'drive' && opened.drive && opened.client) {
    return { driveUuid: opened.drive.uuid, driveName: opened.drive.name, account: loc.account, endpoint: opened.client.url, claimed };
  }
  const path = loc.kind === 'file' ? resolve(loc.path) : opened.source.description;
  return { driveUuid: loc.kind === 'file' ? fileDriveId(loc.path) : `file:${path}`, driveName: path, account: 'file', endpoint: hostname(), claimed: false };
}

async function allDrives(accountText: string, tags: string[], clients: Clients): Promise<string[]> {
  const account = accountText.replace(/:$/, '');
  if (!account || account.includes('/')) throw new UsageError(`--all takes an account name such as eh: (got ${accountText})`);
  const client = await clients.get(account);
  const drives = (await client.listDriveInfo()).filter((d) => tags.every((t) => d.tags.includes(t)));
  if (drives.length === 0) {
    throw new DrivesnapError('NO_DRIVES', `account ${account} has no drives${tags.length ? ` tagged ${tags.join(', ')}` : ''}`, ExitCode.failure);
  }
  return drives.map((d) => `${account}:${d.uuid}`);
}
