/**
 * Ctrl-C while drivesnap holds a user's server stopped: the work must be aborted (so the `finally` that
 * starts the server again runs), never the process killed. The CLI's stop handlers (../cli/stop.ts) already
 * turn the first SIGINT/SIGTERM into the process's stop signal and own the second one, so this only hands
 * out that signal and says a word about the servers on the first signal. No process listeners here.
 *
 * @deprecated for new code: pass `stopSignal()` down and use `onStop` from ../cli/stop.ts in the command.
 */
import { onStopRequested, stopSignal } from '../util/stop-request.js';

export interface InterruptGuard {
  signal: AbortSignal;
  release(): void;
}

export function guardInterrupts(onFirst?: () => void): InterruptGuard {
  const release = onFirst ? onStopRequested(onFirst) : () => undefined;
  return { signal: stopSignal(), release };
}
