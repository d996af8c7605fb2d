/**
 * A process with the CLI's stop handlers and nothing else, for test/cli/stop.test.ts:
 * `node --import tsx test/helpers/stop-child.ts GRACE_MS`. It prints `ready` with its signal listener
 * counts, `aborted CODE EXIT BY` when the stop signal aborts, and otherwise waits until a signal ends it.
 */
import { installStopHandlers, onStop, stopSignal } from '../../src/cli/stop.js';
import type { DrivesnapError } from '../../src/errors.js';

const graceMs = Number(process.argv[2] ?? 60_000);
const before = `${process.listenerCount('SIGINT')} ${process.listenerCount('SIGTERM')}`;
installStopHandlers({ graceMs });
onStop((by) => {
  const reason = stopSignal().reason as DrivesnapError;
  process.stdout.write(`aborted ${reason.code} ${reason.exitCode} ${by}\n`);
});
setInterval(() => undefined, 1000); // the work that does not stop by itself
process.stdout.write(`ready ${before} ${process.listenerCount('SIGINT')} ${process.listenerCount('SIGTERM')}\n`);
