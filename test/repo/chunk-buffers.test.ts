/**
 * A repository reuses buffers per chunk instead of allocating (peak RSS): objects sealed into buffers given
 * back once stored, and chunks opened into the caller's buffer. What comes back must still be exact.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { maxChunkObjectBytes } from '../../src/repo/format/index.js';
import { Cleanup, localRepo } from '../helpers/engine-fixtures.js';
import { textData } from './format/fixtures.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

describe.each([true, false])('chunk buffers (encrypted: %s)', (encrypted) => {
  it('stores chunks encoded one after another into reused buffers, each read back exact', async () => {
    const { repo } = await localRepo(cleanup, encrypted);
    const ranges = [textData(repo.chunkSize, 1), randomBytes(repo.chunkSize), textData(repo.chunkSize, 2)];
    const ids = [];
    for (const data of ranges) {
      const id = await repo.chunkId(data);
      await repo.putChunk(id, await repo.encodeChunk(data, id));
      ids.push(id);
    }
    await repo.flushChunks();
    for (const [i, id] of ids.entries()) expect((await repo.readChunk(id)).equals(ranges[i]!)).toBe(true);
  });

  it('opens a chunk into the caller buffer', async () => {
    const { repo } = await localRepo(cleanup, encrypted);
    const data = textData(repo.chunkSize, 3);
    const id = await repo.chunkId(data);
    await repo.putChunk(id, await repo.encodeChunk(data, id));
    await repo.flushChunks();
    const into = Buffer.alloc(maxChunkObjectBytes(repo.chunkSize));
    const { encoding, payload } = await repo.openChunk(id, into);
    expect(encoding).toBe('gzip');
    expect(payload.buffer === into.buffer).toBe(true);
    expect(gunzipSync(payload).equals(data)).toBe(true);
  });
});
