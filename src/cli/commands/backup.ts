/**
 * `drivesnap backup`: parses the locations and options, and prints; the work is the backup orchestrator's
 * (src/ops/backup-orchestrator.ts), the same one `run` uses.
 */
import type { CommandModule } from 'yargs';
import { parseLocation } from '../../config/locations.js';
import { UsageError } from '../../errors.js';
import { type BackupEvent, type BackupItem, backupAll, DEFAULT_PARALLEL_DRIVES } from '../../ops/backup-orchestrator.js';
import { driveTarget, fileTarget, runExitCode, stdinTarget } from '../../ops/backup-plan.js';
import { selectDrives, targetItems } from '../../ops/run-select.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../ops/server-shutdown.js';
import { Clients, openSource } from '../open-ends.js';
import { Output } from '../output.js';
import { fleetProgressView, summarize } from '../progress-view.js';
import { onStop, stopSignal } from '../stop.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';
import { concurrency, type NumberSpec, shutdownTimeout, waitLock, withNumbers } from '../options.js';

/** `--drives N` of `backup` and `run`: drives backed up at once (why 4: src/ops/backup-orchestrator.ts). */
export const parallelDrives = (): NumberSpec => ({
  description: 'Drives backed up at once; they share each account\'s --concurrency connections fairly',
  min: 1,
  max: 64,
  default: DEFAULT_PARALLEL_DRIVES,
});

interface BackupArgs extends RepoArgs {
  locations: string[];
  tag?: string[];
  all?: string;
  'tag-filter'?: string[];
  concurrency: number;
  drives: number;
  'shutdown-server': boolean;
  'stop-server': boolean;
  'shutdown-timeout'?: number;
  'read-all': boolean;
  'wait-lock'?: number;
  size?: string;
}

export const command: CommandModule<object, BackupArgs> = {
  command: 'backup [locations..]',
  describe: 'Back up drives or image files into new snapshots (incremental: only new chunks are stored)',
  builder: (y) =>
    withNumbers(withRepoOptions(y), {
      concurrency: concurrency('Ranges in flight at once, and the connections each account shares among the drives in flight'),
      drives: parallelDrives(),
      'wait-lock': waitLock(),
      'shutdown-timeout': shutdownTimeout('With --shutdown-server: seconds to wait for the server to stop (default 300)'),
    })
      .positional('locations', { type: 'string', array: true, description: 'ACCOUNT:DRIVE, an image file path, or - (an image on stdin, with --size)' })
      .option('size', { type: 'string', description: 'With -: the size of the image on stdin, bytes with optional k/M/G/T suffix' })
      .option('tag', { type: 'string', array: true, description: 'Tag the new snapshots (repeatable)' })
      .option('all', { type: 'string', description: 'Back up every drive of ACCOUNT: (with --tag-filter to narrow)' })
      .option('tag-filter', { type: 'string', array: true, description: 'With --all: only drives carrying any of these tags (repeatable)' })
      .option('read-all', {
        type: 'boolean',
        default: false,
        description: 'Read API drives in full even when their I/O counters show no write since their last snapshot',
      })
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
    const shutdown = args['shutdown-server'];
    if (!shutdown && (args['stop-server'] || args['shutdown-timeout'] !== undefined)) {
      throw new UsageError('--stop-server and --shutdown-timeout only apply with --shutdown-server');
    }
    const clients = new Clients(args.concurrency);
    // While servers may be held down, the first Ctrl-C says that they are started again before the exit.
    const offStop = shutdown ? onStop(() => process.stderr.write('drivesnap: starting the servers it stopped again before exiting\n')) : undefined;
    try {
      if (args.size !== undefined && !(args.locations ?? []).includes('-')) throw new UsageError('--size applies only to - (an image on stdin)');
      const items = (args.locations ?? []).map((text) => locationItem(text, clients, args.size));
      if (args.all) {
        const account = args.all.replace(/:$/, '');
        if (!account || account.includes('/')) throw new UsageError(`--all takes an account name such as eh: (got ${args.all})`);
        const tags = args['tag-filter'] ?? [];
        items.push(...targetItems(await selectDrives([tags.length > 0 ? { kind: 'tagged', account, tags } : { kind: 'all', account }], clients), clients));
      } else if (args['tag-filter']) {
        throw new UsageError('--tag-filter only applies with --all ACCOUNT:');
      }
      if (items.length === 0) throw new UsageError('name what to back up: ACCOUNT:DRIVE, a file path, or --all ACCOUNT:');
      // One location: its error is the command's error (exit code and message, printed once by main).
      const single = items.length === 1;
      const progress = fleetProgressView(out, items.length);
      const outcomes = await withRepository(args, (repo) =>
        backupAll({
          repo,
          items,
          tags: args.tag,
          concurrency: args.concurrency,
          drives: args.drives,
          readAll: args['read-all'],
          lockWaitMs: (args['wait-lock'] ?? 0) * 1000,
          signal: stopSignal(),
          shutdown: shutdown
            ? { timeoutMs: (args['shutdown-timeout'] ?? DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000) * 1000, powerOffOnTimeout: args['stop-server'] }
            : undefined,
          onEvent: (e) => reportBackupEvent(out, e, !single),
          progress: (label) => progress.drive(label),
        }),
      ).finally(() => progress.stop());
      const failed = outcomes.filter((o) => !o.ok);
      if (single && failed[0]) throw failed[0].cause;
      process.exitCode = runExitCode({ drives: outcomes.length, failed: failed.length });
    } finally {
      offStop?.();
      await clients.close();
    }
  },
};

/** A location the user typed: a drive (ACCOUNT:DRIVE) or an image file, opened when its turn comes. */
function locationItem(text: string, clients: Clients, stdinSize: string | undefined): BackupItem {
  return {
    label: text,
    open: async () => {
      const { source, location, drive, client } = await openSource(text, clients, { size: text === '-' ? stdinSize : undefined });
      if (location.kind === 'drive' && drive && client) return { source, target: driveTarget(location.account, drive, client.url), drive, client };
      if (location.kind === 'stdio') return { source, target: stdinTarget() };
      const loc = parseLocation(text);
      return { source, target: fileTarget(loc.kind === 'file' ? loc.path : source.description) };
    },
  };
}

/**
 * How `backup` and `run` show the orchestrator's events: every event as a JSON line with --json; for
 * people, snapshots and server steps on stdout, warnings and (when `printErrors`) failures on stderr.
 */
export function reportBackupEvent(out: Output, e: BackupEvent, printErrors: boolean): void {
  if (e.event === 'warning') {
    out.warn(e.message);
    out.event({ ...e });
    return;
  }
  out.event({ ...e });
  switch (e.event) {
    case 'snapshot':
      out.info(
        summarize(
          `snapshot ${e.snapshot.slice(0, 12)} of ${e.location}${e.made ? ` (${e.made})` : ''}${e.claimed ? ' (drive in use: crash-consistent)' : ''}`,
          e,
        ),
      );
      return;
    case 'error':
      if (printErrors) process.stderr.write(`drivesnap: backup of ${e.location} failed: ${e.message}\n`);
      return;
    default: {
      const label = e.name ? `${e.name} (${e.server})` : e.server;
      const text: Record<typeof e.event, string> = {
        'server-shutdown': `shutting down server ${label} (ACPI)`,
        'server-timeout': `server ${label} did not shut down in time`,
        'server-power-off': `powering off server ${label}`,
        'server-stopped': `server ${label} is stopped`,
        'server-starting': `starting server ${label} again`,
        'server-started': `server ${label} is running again`,
      };
      out.info(text[e.event]);
    }
  }
}
