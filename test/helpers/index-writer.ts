/**
 * Child process for the index's two-writer test: opens the index at argv[2], waits until the other writer
 * (tag argv[4]) has registered its job too, so that both really write at once, then writes argv[5] batches
 * of 200 chunks whose ids start with the byte argv[3], with one checkpoint per batch.
 */
import { RepoIndex } from '../../src/repo/index-db.js';

const [path, tagArg, otherArg, batchesArg] = process.argv.slice(2);
const tag = Number(tagArg);
const batches = Number(batchesArg);
const index = RepoIndex.open(path!);
index.beginJob(`writer-${tag}`, { tag });
const pause = new Int32Array(new SharedArrayBuffer(4));
while (index.jobInfo(`writer-${otherArg}`) === undefined) Atomics.wait(pause, 0, 0, 5);
for (let b = 0; b < batches; b++) {
  const rows = Array.from({ length: 200 }, (_, i) => {
    const id = Buffer.alloc(32);
    id[0] = tag;
    id.writeUInt32BE(b * 200 + i, 1);
    return { id, size: 1000 + i };
  });
  index.addChunks(rows);
  index.checkpoint(`writer-${tag}`, [{ range: b, id: rows[0]!.id }]);
}
index.close();
