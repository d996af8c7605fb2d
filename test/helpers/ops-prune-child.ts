/**
 * A prune in a child process that freezes after a chosen number of deletions, so the test can SIGKILL it
 * at exactly that point: `node --import tsx ops-prune-child.ts REPO_DIR INDEX_PATH STOP_AFTER`.
 * Prints `paused N` when frozen (other deletions may still be in flight in the thread pool, as in a real
 * crash), `done N` when prune finished. The password comes from DRIVESNAP_PASSWORD.
 */
import { prune } from '../../src/ops/prune.js';
import { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';

const [dir, indexPath, stopText] = process.argv.slice(2);
const stopAfter = Number(stopText);
const repo = await Repository.open(new LocalStore(dir!), { password: process.env.DRIVESNAP_PASSWORD, indexPath: () => indexPath! });
const r = await prune(repo, {
  onDelete: (done) => {
    if (done !== stopAfter) return;
    process.stdout.write(`paused ${done}\n`, () => {
      // Freeze the whole process (event loop included) until the test kills it.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
    });
  },
});
process.stdout.write(`done ${r.deleted}\n`);
await repo.close();
