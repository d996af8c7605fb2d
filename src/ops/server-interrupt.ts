/**
 * Ctrl-C while drivesnap holds a user's server stopped. The CLI's own SIGINT handler exits at once, which
 * would leave the server down; while `guardInterrupts` is in force the first SIGINT only aborts the work
 * (so the `finally` that starts the server again runs) and a second one exits as before.
 */
import { DrivesnapError } from '../errors.js';

export interface InterruptGuard {
  signal: AbortSignal;
  release(): void;
}

export function guardInterrupts(onFirst?: () => void): InterruptGuard {
  const controller = new AbortController();
  const previous = process.listeners('SIGINT');
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      onFirst?.();
      controller.abort(new DrivesnapError('INTERRUPTED', 'interrupted'));
      return;
    }
    // Second Ctrl-C: the user insists; behave as the CLI normally does.
    release();
    process.emit('SIGINT');
  };
  process.removeAllListeners('SIGINT');
  process.on('SIGINT', handler);
  let released = false;
  function release(): void {
    if (released) return;
    released = true;
    process.off('SIGINT', handler);
    for (const l of previous) process.on('SIGINT', l as (...args: unknown[]) => void);
  }
  return { signal: controller.signal, release };
}
