/**
 * A child process for test/cli/stdio.test.ts: what `copy - TARGET --to-new --size N` does through
 * open-ends (until copy.ts declares --size): stdin of the given size onto a new drive or file.
 * argv: SIZE TARGET. Prints `copied` or `failed: MESSAGE` on stderr.
 */
import { Clients, openSink, openSource, runOntoSink } from '../../src/cli/open-ends.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { errorMessage } from '../../src/errors.js';

const clients = new Clients(4);
try {
  const src = await openSource('-', clients, { size: process.argv[2] });
  const dst = await openSink(process.argv[3]!, clients, { createSize: src.source.size });
  await runOntoSink(dst, undefined, (sink) => copy({ source: src.source, sink, concurrency: 4 }), src.source);
  await dst.sink.close();
  process.stderr.write(`copied ${dst.created ? '(new)' : ''}\n`);
} catch (err) {
  process.stderr.write(`failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
} finally {
  await clients.close();
}
