/**
 * `drivesnap run JOBFILE [--daemon]`: the job runner for cron, systemd timers (one pass) or as a daemon
 * keeping the job file's own schedule. The exit code says how the pass went (src/ops/run-job.ts).
 */
import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { type BackupEvent, isBackupEvent } from '../../ops/backup-orchestrator.js';
import { runDaemon } from '../../ops/daemon.js';
import { type RunEvent, type RunJobOptions, type RunSummary, loadJob, runJob } from '../../ops/run-job.js';
import { parseShard } from '../../ops/shard.js';
import { formatBytes } from '../../util/size.js';
import { Clients } from '../open-ends.js';
import { withNumbers } from '../options.js';
import { Output } from '../output.js';
import { fleetProgressView } from '../progress-view.js';
import { indexPathFor } from '../repo-context.js';
import { stopSignal } from '../stop.js';
import { parallelDrives, reportBackupEvent } from './backup.js';

interface RunArgs {
  jobfile: string;
  daemon: boolean;
  'read-all': boolean;
  drives?: number;
  shard?: string;
  json?: boolean;
  quiet?: boolean;
}

export const command: CommandModule<object, RunArgs> = {
  command: 'run <jobfile>',
  describe: 'Run the backups, retention, prune and check a job file describes (for cron and timers)',
  builder: (y) =>
    withNumbers(y, { drives: { ...parallelDrives(), default: undefined, description: "Drives backed up at once (default: the job file's parallelDrives, else 4)" } })
      .positional('jobfile', { type: 'string', demandOption: true, description: 'The job file (YAML or JSON, docs/jobfile.md)' })
      .option('daemon', { type: 'boolean', default: false, description: "Stay up and run on the job file's schedule" })
      .option('read-all', {
        type: 'boolean',
        default: false,
        description: 'Read every drive in full this pass, even those whose I/O counters show no write (see fullReadEvery)',
      })
      .option('shard', {
        type: 'string',
        description: "K/N: back up only this host's share of the drives (host K of N sharing the repository; prune and check on 1 only)",
      }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const onEvent = (e: RunEvent | BackupEvent) => {
      if (isBackupEvent(e)) return reportBackupEvent(out, e, true);
      out.event(e);
      const line = describeEvent(e);
      if (line !== undefined) (e.event === 'problem' ? process.stderr.write(`drivesnap: ${line}\n`) : out.info(line));
    };
    const shard = args.shard === undefined ? undefined : parseShard(args.shard);
    // The daemon's runs and a single pass stop on the same signal (Ctrl-C, SIGTERM: src/cli/stop.ts).
    const base = { openClients: (n: number) => new Clients(n), indexPathFor, onEvent, signal: stopSignal(), readAll: args['read-all'], drives: args.drives, shard };
    /** One pass, with its own progress display. */
    const pass = (): Promise<RunSummary> => {
      const progress = fleetProgressView(out);
      const opts: RunJobOptions = { ...base, progress: (label) => progress.drive(label) };
      return runJob(args.jobfile, opts).finally(() => progress.stop());
    };
    if (!args.daemon) {
      const summary = await pass();
      if (!args.json) process.stdout.write(`${summaryLine(summary)}\n`);
      process.exitCode = summary.exitCode;
      return;
    }
    const job = await loadJob(args.jobfile);
    if (!job.schedule) throw new UsageError(`${args.jobfile} has no schedule: add one (e.g. schedule: "0 3 * * *") to run --daemon`);
    process.exitCode = await runDaemon({
      schedule: job.schedule,
      timeZone: job.timeZone,
      onEvent,
      signal: stopSignal(),
      runOnce: async () => {
        const s = await pass();
        if (!args.json) out.info(summaryLine(s));
        return s;
      },
    });
  },
};

function describeEvent(e: RunEvent): string | undefined {
  switch (e.event) {
    case 'forget':
      return `forget: removed ${e.removed} snapshot(s), kept ${e.kept}`;
    case 'prune':
      return e.skipped ? `prune skipped: ${e.message}` : `prune: deleted ${e.deleted} chunk(s), freed ${formatBytes(Number(e.freedBytes))}`;
    case 'problem':
      return `check: ${e.object}: ${e.message}`;
    case 'check':
      return `check: ${e.problems === 0 ? 'no problems' : `${e.problems} problem(s)`}`;
    case 'next-run':
      return e.time ? `next run at ${e.time}` : 'the schedule has no next run';
    case 'stopping':
      return `${e.signal}: stopping${e.waitingForRun ? ' after the current run' : ''}`;
    default:
      return undefined;
  }
}

function summaryLine(s: RunSummary): string {
  const ok = s.drives.filter((d) => d.ok).length;
  return `run${s.shard ? ` (shard ${s.shard})` : ''}: ${ok} of ${s.drives.length} drive(s) backed up${s.forgotten ? `, ${s.forgotten} snapshot(s) forgotten` : ''}; exit ${s.exitCode}`;
}
