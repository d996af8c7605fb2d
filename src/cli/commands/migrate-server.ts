import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import type { Progress } from '../../engine/progress.js';
import { type MigrateEvent, type MigratePlanDrive, migrateServer } from '../../ops/migrate-server.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../ops/server-shutdown.js';
import { formatBytes } from '../../util/size.js';
import { openJobsDb } from '../jobs-db.js';
import { Clients } from '../open-ends.js';
import { Output, table } from '../output.js';
import { formatCounts, summarize } from '../progress-view.js';
import { compressLevel, concurrency, shutdownTimeout, withNumbers } from '../options.js';
import { onStop, stopSignal } from '../stop.js';
import { reportBackupEvent } from './backup.js';

interface MigrateArgs {
  server: string;
  dest: string;
  start: boolean;
  name?: string;
  'new-macs': boolean;
  'shutdown-server': boolean;
  'stop-server': boolean;
  'shutdown-timeout'?: number;
  'keep-source-stopped': boolean;
  verify: boolean;
  concurrency: number;
  'parallel-drives': number;
  compress: number;
  json?: boolean;
  quiet?: boolean;
}

export const command: CommandModule<object, MigrateArgs> = {
  command: 'migrate-server <server> <dest>',
  describe: 'Copy a server and every drive it uses to another account, zone or provider; resumable',
  builder: (y) =>
    withNumbers(y, {
      'shutdown-timeout': shutdownTimeout('With --shutdown-server: seconds to wait (default 300)'),
      concurrency: concurrency('Ranges in flight per drive'),
      'parallel-drives': { description: 'Drives copied at once', min: 1, max: 64, default: 4 },
      compress: compressLevel('gzip level for writes to the new drives (0 = raw)'),
    })
      .positional('server', { type: 'string', demandOption: true, description: 'ACCOUNT:SERVER (UUID or unique name)' })
      .positional('dest', { type: 'string', demandOption: true, description: 'Destination account, ACCOUNT:' })
      .option('start', { type: 'boolean', default: false, description: 'Start the new server once it is created' })
      .option('name', { type: 'string', description: "Name of the new server (default: the source server's)" })
      .option('new-macs', { type: 'boolean', default: false, description: 'Let the destination assign new NIC MAC addresses' })
      .option('shutdown-server', {
        type: 'boolean',
        default: false,
        description: 'Shut the source server down (ACPI) for the copy, start it again after: clean, consistent drives',
      })
      .option('stop-server', { type: 'boolean', default: false, description: 'With --shutdown-server: power off on timeout' })
      .option('keep-source-stopped', {
        type: 'boolean',
        default: false,
        description: 'With --shutdown-server: leave the source server stopped afterwards (cut-over)',
      })
      .option('verify', { type: 'boolean', default: false, description: 'Read every new drive back and compare' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const { account: srcAccount, server } = parseServerArg(args.server);
    const destAccount = parseAccountArg(args.dest);
    const shutdown = args['shutdown-server'];
    if (!shutdown && (args['stop-server'] || args['shutdown-timeout'] !== undefined || args['keep-source-stopped'])) {
      throw new UsageError('--stop-server, --shutdown-timeout and --keep-source-stopped only apply with --shutdown-server');
    }
    const clients = new Clients(args.concurrency * args['parallel-drives']);
    const jobs = openJobsDb();
    // Ctrl-C / SIGTERM (src/cli/stop.ts): no new range starts, a source server held down is started again.
    const offStop = shutdown ? onStop(() => process.stderr.write('drivesnap: starting the source server again before exiting\n')) : undefined;
    try {
      const result = await migrateServer({
        source: await clients.get(srcAccount),
        sourceAccount: srcAccount,
        dest: await clients.get(destAccount),
        destAccount,
        server,
        jobs,
        concurrency: args.concurrency,
        parallelDrives: args['parallel-drives'],
        compressLevel: args.compress,
        verify: args.verify,
        start: args.start,
        name: args.name,
        newMacs: args['new-macs'],
        shutdown: shutdown
          ? {
              timeoutMs: (args['shutdown-timeout'] ?? DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000) * 1000,
              powerOffOnTimeout: args['stop-server'],
              restart: !args['keep-source-stopped'],
              onEvent: (e) => reportBackupEvent(out, e, true),
            }
          : undefined,
        signal: stopSignal(),
        onDriveProgress: jsonProgress(out),
        onEvent: (e) => report(out, e),
      });
      const rows = result.drives.map((d) => [d.device, d.name, formatBytes(d.size), d.from, d.to ?? '-', d.action]);
      const text =
        `migrated server ${args.server} to ${destAccount}: new server ${result.server} (${result.name}), ` +
        `${result.started ? 'started' : 'stopped'}\n` +
        table(['DEVICE', 'DRIVE', 'SIZE', 'OLD', 'NEW', 'ACTION'], rows) +
        (result.crashConsistent ? '\nnote: the source server ran during the copy: the drives are crash-consistent' : '');
      out.result(
        {
          event: 'migrated',
          sourceServer: result.sourceServer,
          server: result.server,
          name: result.name,
          started: result.started,
          crashConsistent: result.crashConsistent,
          mapping: Object.fromEntries(result.drives.map((d) => [d.from, d.to])),
          drives: result.drives,
          notes: result.notes,
        },
        text,
      );
    } finally {
      offStop?.();
      jobs.close();
      await clients.close();
    }
  },
};

function parseServerArg(text: string): { account: string; server: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(.+)$/.exec(text);
  if (!m) throw new UsageError(`name the server as ACCOUNT:SERVER (a UUID or a unique name), not ${JSON.stringify(text)}`);
  return { account: m[1]!, server: m[2]! };
}

function parseAccountArg(text: string): string {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*):?$/.exec(text);
  if (!m) throw new UsageError(`the destination is an account, ACCOUNT:, not ${JSON.stringify(text)}`);
  return m[1]!;
}

function report(out: Output, e: MigrateEvent): void {
  if (e.event === 'warning') {
    out.warn(e.message);
    out.event({ ...e });
    return;
  }
  out.event({ ...e });
  if (e.event === 'drive-copied') {
    out.info(summarize(`copied ${e.device} ${e.from} -> ${e.to}`, e.progress));
  } else if (e.event === 'drive-created') out.info(`created drive ${e.to} for ${e.device} (from ${e.from})`);
  else if (e.event === 'drive-reused') out.info(`resuming into drive ${e.to} for ${e.device} (from ${e.from})`);
  else if (e.event === 'server-created') out.info(`created server ${e.server} (stopped)`);
  else if (e.event === 'server-reused') out.info(`server ${e.server} exists from an earlier run`);
  else if (e.event === 'server-started') out.info(`started server ${e.server}`);
}

/** With --json, a progress line per drive at most every 250 ms; nothing otherwise (summaries follow). */
function jsonProgress(out: Output) {
  const last = new Map<string, number>();
  return (d: MigratePlanDrive, p: Progress) => {
    if (!out.json) return;
    const now = Date.now();
    if (now - (last.get(d.device) ?? 0) < 250) return;
    last.set(d.device, now);
    const s = p.snapshot();
    out.event({ event: 'progress', target: d.device, drive: d.from, ranges: formatCounts(s.counts), ...s });
  };
}
