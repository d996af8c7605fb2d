/**
 * A child process for test/cli/stdio.test.ts: copies an image file onto `-` (stdout, through openSink as
 * the CLI does) with a source whose range 0 cannot be read, so the ranges after it wait for a gap that
 * never fills. Prints `copied` or `failed: MESSAGE` on stderr; exits 0 only when the copy succeeded.
 */
import { Clients, openSink } from '../../src/cli/open-ends.js';
import { openFileSource } from '../../src/engine/ends/file.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { errorMessage } from '../../src/errors.js';

const file = await openFileSource(process.argv[2]!);
const source = {
  ...file,
  size: file.size,
  read: (offset: number, length: number, into?: Buffer) =>
    offset === 0 ? Promise.reject(new Error('range 0 is unreadable')) : file.read(offset, length, into),
};
const { sink } = await openSink('-', new Clients(4), {});
try {
  await copy({ source, sink, concurrency: 4 });
  process.stderr.write('copied\n');
} catch (err) {
  process.stderr.write(`failed: ${errorMessage(err)}\n`);
  process.exitCode = 1;
} finally {
  await sink.close();
  await file.close();
}
