/**
 * `run --daemon`: keeps the job file's `schedule` itself (croner), for hosts without cron or timers. Runs
 * never overlap: a tick that comes while a run is still going is skipped (croner's `protect`). The first
 * SIGTERM or SIGINT stops the schedule; a run in progress finishes (a half-written snapshot is worth less
 * than waiting) and the daemon then returns. A second signal exits at once with 130.
 */
import { Cron } from 'croner';
import { ExitCode, errorMessage } from '../errors.js';
import type { RunSummary } from './run-job.js';

export interface DaemonOptions {
  schedule: string;
  timeZone: string;
  /** One pass of the job; its errors are reported and the schedule goes on. */
  runOnce: () => Promise<RunSummary>;
  onEvent: (e: Record<string, unknown> & { event: string }) => void;
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

  // The CLI's default SIGINT handler exits at once; the daemon owns signals while it runs.
  const saved = process.listeners('SIGINT');
  process.removeAllListeners('SIGINT');
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Second signal: the operator wants out now.
      process.exit(ExitCode.interrupted);
    }
    stopping = true;
    cron.stop();
    o.onEvent({ event: 'stopping', signal, waitingForRun: running !== undefined });
    void (running ?? Promise.resolve()).then(() => resolveStopped());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  scheduleNext();
  try {
    await stopped;
    o.onEvent({ event: 'stopped' });
    return ExitCode.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const l of saved) process.on('SIGINT', l as NodeJS.SignalsListener);
  }
}
