/**
 * The process's one stop request: a single AbortController whose signal every long-running piece of
 * drivesnap watches (jobs, retries' backoff, lock waits, the daemon, server shutdowns). Ctrl-C and SIGTERM
 * reach it through ../cli/stop.ts, which owns the signal handlers; library code lives below the CLI and so
 * takes the signal from here (or from its caller), never from process listeners.
 *
 * API for commands and the engine:
 *   stopSignal()          the AbortSignal to pass down; its reason is a DrivesnapError INTERRUPTED (exit 130)
 *   stopRequestedBy()     'SIGINT' | 'SIGTERM' | 'request' once stopped, else undefined
 *   requestStop(by)       aborts it (what the handlers call; tests and embedders may too); true the first time
 *   onStopRequested(fn)   fn(by) on the first stop (extra words, e.g. "starting stopped servers again")
 *   isInterruption(err)   whether an error is that abort (the reason itself, or an AbortError caused by it)
 *   abortableSleep(ms, signal)  a wait that ends early with the signal's reason
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { DrivesnapError } from '../errors.js';

export type StopCause = NodeJS.Signals | 'request';

let controller = new AbortController();
let requestedBy: StopCause | undefined;

export function stopSignal(): AbortSignal {
  return controller.signal;
}

export function stopRequestedBy(): StopCause | undefined {
  return requestedBy;
}

/** Aborts the stop signal with an INTERRUPTED error; false when a stop was already requested. */
export function requestStop(by: StopCause = 'request'): boolean {
  if (controller.signal.aborted) return false;
  requestedBy = by;
  const how = by === 'request' ? '' : ` (${by})`;
  controller.abort(new DrivesnapError('INTERRUPTED', `interrupted${how}: stopped before the end; run the command again to resume`));
  return true;
}

/**
 * Calls `listener` once when a stop is requested (at once if it already was). Returns an unsubscribe.
 * Listeners run inside requestStop, before anything else reacts to the abort.
 */
export function onStopRequested(listener: (by: StopCause) => void): () => void {
  const signal = controller.signal;
  if (signal.aborted) {
    listener(requestedBy ?? 'request');
    return () => undefined;
  }
  const call = () => listener(requestedBy ?? 'request');
  signal.addEventListener('abort', call, { once: true });
  return () => signal.removeEventListener('abort', call);
}

/** A fresh, unaborted stop signal: for tests that request a stop in-process and for embedders. */
export function resetStopRequest(): void {
  controller = new AbortController();
  requestedBy = undefined;
}

export function isInterruption(err: unknown, signal: AbortSignal = stopSignal()): boolean {
  if (!signal.aborted) return false;
  if (err === signal.reason) return true;
  if (err instanceof DrivesnapError && err.code === 'INTERRUPTED') return true;
  return err instanceof Error && err.name === 'AbortError';
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (at once if it already has). */
export async function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleepFor(ms);
  signal.throwIfAborted();
  try {
    await sleepFor(ms, undefined, { signal });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw err;
  }
}
