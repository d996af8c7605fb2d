/**
 * SIGINT and SIGTERM for the whole CLI process, installed once by main(). The first signal aborts the one
 * stop signal (../util/stop-request.ts: commands pass `stopSignal()` down to jobs, retries and lock waits),
 * prints one line, and arms a safety timer that exits 130 after 5 s if the work has not wound down; a
 * second signal exits 130 at once. main() maps the abort (a DrivesnapError INTERRUPTED) to exit 130.
 *
 * For commands:
 *   import { stopSignal, onStop } from '../stop.js';
 *   await backup({ ..., signal: stopSignal() });       // ranges in flight finish, checkpoint, unlock, throw
 *   const off = onStop(() => out.info('starting stopped servers again'));  // extra words on the first signal
 * Nobody else adds process signal listeners.
 */
import { ExitCode } from '../errors.js';
import { requestStop, stopSignal } from '../util/stop-request.js';

export {
  isInterruption,
  onStopRequested as onStop,
  requestStop,
  stopRequestedBy,
  type StopCause,
  stopSignal,
} from '../util/stop-request.js';

export const STOP_MESSAGE = 'stopping: ranges in flight finish, checkpoints are saved, locks released; press Ctrl-C again to exit at once';
/** How long the first signal leaves the work to wind down before the process exits anyway. */
export const STOP_GRACE_MS = 5_000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface StopHandlerOptions {
  graceMs?: number;
  /** Where the one line goes; stderr by default. */
  write?: (line: string) => void;
  exit?: (code: number) => void;
}

let uninstall: (() => void) | undefined;
let users = 0;

/**
 * Installs the handlers (once per process however often it is called; the options of the first call
 * count). Returns a release function; the handlers go when every caller has released.
 */
export function installStopHandlers(opts: StopHandlerOptions = {}): () => void {
  users++;
  if (!uninstall) {
    const exit = opts.exit ?? ((code: number) => process.exit(code));
    const write = opts.write ?? ((line: string) => process.stderr.write(line));
    const handler = (signal: NodeJS.Signals) => {
      if (stopSignal().aborted) {
        exit(ExitCode.interrupted);
        return;
      }
      write(`drivesnap: ${STOP_MESSAGE}\n`);
      requestStop(signal);
      setTimeout(() => exit(ExitCode.interrupted), opts.graceMs ?? STOP_GRACE_MS).unref();
    };
    for (const s of SIGNALS) process.on(s, handler);
    uninstall = () => {
      for (const s of SIGNALS) process.off(s, handler);
    };
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users--;
    if (users === 0 && uninstall) {
      uninstall();
      uninstall = undefined;
    }
  };
}
