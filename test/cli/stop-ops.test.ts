/**
 * The daemon and the server guard follow the one stop signal instead of owning process listeners: an
 * abort stops the daemon's schedule (after the run in progress) and hands the guard's callers the signal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runDaemon } from '../../src/ops/daemon.js';
import { guardInterrupts } from '../../src/ops/server-interrupt.js';
import { requestStop, resetStopRequest, stopSignal } from '../../src/util/stop-request.js';

afterEach(() => resetStopRequest());

describe('runDaemon with a stop signal', () => {
  it('stops the schedule when the signal aborts, lets the run in progress finish, returns 0 and adds no process listener', async () => {
    const listeners = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const stop = new AbortController();
    const events: string[] = [];
    let runs = 0;
    const code = await runDaemon({
      schedule: '* * * * * *',
      timeZone: 'UTC',
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e.event);
        expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(listeners);
      },
      runOnce: async () => {
        runs++;
        stop.abort(new Error('stop'));
        return { exitCode: 0 } as never;
      },
    });
    expect(code).toBe(0);
    expect(runs).toBe(1);
    expect(events).toEqual(['next-run', 'run-start', 'stopping', 'run-end', 'stopped']);
  }, 10_000);

  it('takes the process stop signal by default', async () => {
    const events: string[] = [];
    requestStop('SIGTERM');
    const code = await runDaemon({ schedule: '0 0 1 1 *', timeZone: 'UTC', onEvent: (e) => events.push(e.event), runOnce: async () => ({ exitCode: 0 }) as never });
    expect(code).toBe(0);
    expect(events).toEqual(['stopping', 'stopped']);
  });
});

describe('guardInterrupts', () => {
  it('hands out the process stop signal and calls its callback once on the first stop, adding no listener', () => {
    const before = process.listenerCount('SIGINT');
    let calls = 0;
    const guard = guardInterrupts(() => calls++);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(guard.signal).toBe(stopSignal());
    requestStop('SIGINT');
    requestStop('SIGINT');
    expect(guard.signal.aborted).toBe(true);
    expect(guard.signal.reason).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
    expect(calls).toBe(1);
    guard.release();
  });
});
