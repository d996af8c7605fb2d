import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WritebackOverlap } from '../../src/util/writeback.js';

const MiB = 1024 * 1024;
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function scratchFile() {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-writeback-'));
  return open(join(dir, 'image'), 'w+');
}

describe('WritebackOverlap', () => {
  it('datasyncs in the background once enough is dirty, one at a time, and syncs the rest at settle', async () => {
    const fh = await scratchFile();
    let running = 0;
    let overlapping = 0;
    let syncs = 0;
    const wb = new WritebackOverlap(async () => {
      syncs++;
      running++;
      if (running > 1) overlapping++;
      await fh.datasync();
      running--;
    }, 2 * MiB);
    const block = Buffer.alloc(MiB, 7);
    wb.wrote((await fh.write(block, 0, MiB, 0)).bytesWritten);
    expect(syncs).toBe(0);
    for (let i = 1; i < 8; i++) wb.wrote((await fh.write(block, 0, MiB, i * MiB)).bytesWritten);
    let finalSyncs = 0;
    await wb.settle(async () => {
      finalSyncs++;
      await fh.sync();
    });
    await fh.close();
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(4);
    expect(overlapping).toBe(0);
    expect(finalSyncs).toBe(1);
  });

  it('keeps a failed background datasync and throws it at settle, without trusting a later sync', async () => {
    const fh = await scratchFile();
    const wb = new WritebackOverlap(async () => {
      await fh.datasync();
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    }, MiB);
    wb.wrote((await fh.write(Buffer.alloc(MiB), 0, MiB, 0)).bytesWritten);
    let finalSyncs = 0;
    await expect(wb.settle(async () => void finalSyncs++)).rejects.toThrow('EIO');
    await fh.close();
    expect(finalSyncs).toBe(0);
  });

  it('never syncs in the background when everyBytes is 0', async () => {
    let syncs = 0;
    const wb = new WritebackOverlap(async () => void syncs++, 0);
    wb.wrote(100 * MiB);
    await wb.settle(async () => {});
    expect(syncs).toBe(0);
  });
});
