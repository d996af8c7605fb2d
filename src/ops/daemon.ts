/**
 * `run --daemon`: keeps the job file's `schedule` itself (croner), for hosts without cron or timers. Runs
 * never overlap: a tick that comes while a run is still going is skipped (croner's `protect`). When `signal`
 * aborts (the CLI's stop signal: the first SIGTERM or SIGINT, ../cli/stop.ts, which also owns the second
 * signal and the 5 s safety exit), the schedule stops, a run in progress winds down (it gets the same
 * signal) and the daemon then returns 0. The daemon adds no process signal listeners of its own.
 */
import { Cron } from 'croner';
import { ExitCode, errorMessage } from '../errors.js';
import { stopRequestedBy, stopSignal } from '../util/stop-request.js';
import type { RunSummary } from './run-job.js';

export interface DaemonOptions {
  schedule: string;
  timeZone: string;
  /** One pass of the job; its errors are reported and the schedule goes on. */
  runOnce: () => Promise<RunSummary>;
  onEvent: (e: Record<string, unknown> & { event: string }) => void;
  /** Stops the schedule; default the process's stop signal (../util/stop-request.ts). */
  signal?: AbortSignal;
}

export async function runDaemon(o: DaemonOptions): Promise<number> {
  let running: Promise<void> | undefined;
  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });

  const cron = new Cron(o.schedule, { timezone: o.timeZone, mode: '5-or-6-parts', protect: true }, async () => {
    if (stopping) return;
    const startedAt = new Date().toISOString();
    o.onEvent({ event: 'run-start', time: startedAt });
    running = o
      .runOnce()
      .then((s) => o.onEvent({ event: 'run-end', exitCode: s.exitCode, startedAt }))
      .catch((err) =>
        o.onEvent({ event: 'run-end', exitCode: (err as { exitCode?: number }).exitCode ?? ExitCode.failure, error: errorMessage(err), startedAt }),
      )
      .finally(() => {
        running = undefined;
        scheduleNext();
      });
    await running;
  });
  const scheduleNext = () => {
    if (!stopping) o.onEvent({ event: 'next-run', time: cron.nextRun()?.toISOString() ?? null });
  };

  const signal = o.signal ?? stopSignal();
  const onAbort = () => {
    stopping = true;
    cron.stop();
    o.onEvent({ event: 'stopping', signal: stopRequestedBy() ?? 'request', waitingForRun: running !== undefined });
    void (running ?? Promise.resolve()).then(() => resolveStopped());
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  scheduleNext();
  try {
    await stopped;
    o.onEvent({ event: 'stopped' });
    return ExitCode.ok;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
