/**
 * `drivesnap nbd` against real NBD clients (libnbd's nbdinfo and nbdcopy, qemu-img and qemu-io) on real
 * repositories: what they read equals a restore of the same snapshot, zero ranges show as holes, several
 * clients and a vanishing one are served, a damaged chunk fails only its own range.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkId, chunkObjectName } from '../../src/repo/format/index.js';
import { listLocks } from '../../src/repo/locks.js';
import { Cleanup, localRepo, MiB, makeImage, RANGE, sha256, type TestRepo } from '../helpers/engine-fixtures.js';
import { backupFile, repoEnv, restoredHash } from '../helpers/ops-fixtures.js';
import { runCli } from '../helpers/engine-cli.js';
import { hasTool, type NbdChild, runTool, startNbd, stopNbd } from './nbd-fixtures.js';

const libnbd = hasTool('nbdinfo') && hasTool('nbdcopy');
const qemu = hasTool('qemu-img') && hasTool('qemu-io');
const cleanup = new Cleanup();
afterAll(() => cleanup.run());

interface Served {
  id: string;
  image: Buffer;
  path: string;
}

describe.skipIf(!libnbd)('drivesnap nbd with libnbd clients (nbdinfo, nbdcopy; skipped: libnbd-bin is not installed)', () => {
  let t: TestRepo;
  let work: string;
  let nbd: NbdChild;
  const served: Record<'tiny' | 'odd' | 'sparse', Served> = {} as never;
  const uri = (s: Served) => nbd.exports.find((e) => e.name === s.id)!.uri;

  beforeAll(async () => {
    t = await localRepo(cleanup, true);
    work = await cleanup.tempDir('drivesnap-nbd-');
    const images = {
      tiny: Buffer.from([0x42]),
      odd: makeImage([{ text: 1 }, { random: 2 }], MiB + 3),
      // data, two zero ranges, data, a zero range, a copy of the first range cut short
      sparse: makeImage([{ random: 3 }, 'zero', 'zero', { text: 4 }, 'zero', { dup: 0 }], MiB + 3),
    };
    for (const [name, image] of Object.entries(images) as [keyof typeof images, Buffer][]) {
      const path = join(work, `${name}.img`);
      await writeFile(path, image);
      served[name] = { id: await backupFile(t.repo, path), image, path };
    }
    nbd = await startNbd([served.sparse.id.slice(0, 10), served.odd.id, served.tiny.id], repoEnv(t.dir!, t.indexPath));
    cleanup.add(() => stopNbd(nbd));
  }, 120_000);

  it('prints one URI per snapshot on a private Unix socket, and holds a shared lock while serving (prune refused)', async () => {
    expect(nbd.exports.map((e) => e.name)).toEqual([served.sparse.id, served.odd.id, served.tiny.id]);
    expect(nbd.exports[0]!.uri).toBe(`nbd+unix:///${served.sparse.id}?socket=${nbd.socket}`);
    const locks = await listLocks(t.repo.store);
    expect(locks.map((l) => l.exclusive)).toEqual([false]);
    const prune = await runCli(['prune'], repoEnv(t.dir!, t.indexPath));
    expect(prune.code, prune.stderr).toBe(11);
  });

  it('nbdinfo reports the size, the read-only flag and multi-conn, and lists every export', async () => {
    for (const s of Object.values(served)) {
      const r = await runTool('nbdinfo', ['--json', uri(s)]);
      expect(r.code, r.stderr).toBe(0);
      const info = (JSON.parse(r.stdout) as { exports: Record<string, unknown>[] }).exports[0]!;
      expect(info['export-size']).toBe(s.image.length);
      expect(info.is_read_only).toBe(true);
      expect(info.can_multi_conn).toBe(true);
    }
    const list = await runTool('nbdinfo', ['--list', '--json', `nbd+unix://?socket=${nbd.socket}`]);
    expect(list.code, list.stderr).toBe(0);
    const names = (JSON.parse(list.stdout) as { exports: { 'export-name': string }[] }).exports.map((e) => e['export-name']);
    expect(names.sort()).toEqual(Object.values(served).map((s) => s.id).sort());
  });

  it('nbdcopy of each export equals a restore of the same snapshot byte for byte (1 byte, 5 MiB + 3, sparse)', async () => {
    for (const [name, s] of Object.entries(served)) {
      const out = join(work, `copy-${name}.img`);
      const r = await runTool('nbdcopy', [uri(s), out]);
      expect(r.code, r.stderr).toBe(0);
      const copied = await readFile(out);
      expect(copied.length, name).toBe(s.image.length);
      expect(sha256(copied), name).toBe(await restoredHash(t.repo, s.id, work));
      expect(copied.equals(s.image), name).toBe(true);
    }
  });

  it('nbdinfo --map reports the zero ranges as holes that read as zeros, and the rest as data', async () => {
    const r = await runTool('nbdinfo', ['--map', '--json', uri(served.sparse)]);
    expect(r.code, r.stderr).toBe(0);
    const map = (JSON.parse(r.stdout) as { offset: number; length: number; type: number }[]).map(({ offset, length, type }) => ({ offset, length, type }));
    expect(map).toEqual([
      { offset: 0, length: RANGE, type: 0 },
      { offset: RANGE, length: 2 * RANGE, type: 3 },
      { offset: 3 * RANGE, length: RANGE, type: 0 },
      { offset: 4 * RANGE, length: RANGE, type: 3 },
      { offset: 5 * RANGE, length: MiB + 3, type: 0 },
    ]);
  });

  it('serves two clients at once, one on the default export', async () => {
    const a = join(work, 'two-a.img');
    const b = join(work, 'two-b.img');
    const [ra, rb] = await Promise.all([
      runTool('nbdcopy', ['--connections=4', uri(served.odd), a]),
      runTool('nbdcopy', [`nbd+unix:///?socket=${nbd.socket}`, b]),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect((await readFile(a)).equals(served.odd.image)).toBe(true);
    expect((await readFile(b)).equals(served.sparse.image)).toBe(true);
  });

  it('keeps serving after a client is killed in the middle of a copy', async () => {
    // nbdcopy writes to a pipe nobody drains: once its first bytes arrive it is stuck mid-copy; kill it there.
    const copy = spawn('nbdcopy', ['--request-size=65536', uri(served.odd), '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => copy.stdout.once('data', () => resolve()));
    copy.stdout.pause();
    const exited = new Promise((resolve) => copy.once('exit', resolve));
    copy.kill('SIGKILL');
    await exited;
    const out = join(work, 'after-kill.img');
    const r = await runTool('nbdcopy', [uri(served.odd), out]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(out)).equals(served.odd.image)).toBe(true);
    expect(nbd.child.exitCode).toBeNull();
  });

  it.skipIf(!qemu)('qemu-img compare finds the export identical to the image file, and different from a changed one', async () => {
    const same = await runTool('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', served.sparse.path, uri(served.sparse)]);
    expect(same.code, same.stderr + same.stdout).toBe(0);
    const changed = Buffer.from(served.sparse.image);
    changed[3 * RANGE + 5]! ^= 1;
    const changedPath = join(work, 'changed.img');
    await writeFile(changedPath, changed);
    const differs = await runTool('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', changedPath, uri(served.sparse)]);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toContain('Content mismatch at offset');
  });

  it('stops on SIGTERM with exit code 130, removing its socket and releasing the lock', async () => {
    const { code, stderr } = await stopNbd(nbd);
    expect(code, stderr).toBe(130);
    expect(await listLocks(t.repo.store)).toEqual([]);
    const r = await runTool('nbdinfo', [uri(served.tiny)]);
    expect(r.code).not.toBe(0);
  });
});

describe.skipIf(!libnbd || !qemu)('a damaged chunk (skipped: needs libnbd-bin and qemu-utils)', () => {
  it('answers EIO for its range only, logs a line naming the chunk, and serves the other ranges', async () => {
    const t = await localRepo(cleanup, true);
    const work = await cleanup.tempDir('drivesnap-nbd-corrupt-');
    const image = makeImage([{ random: 11 }, { random: 12 }, { text: 13 }]);
    const path = join(work, 'three.img');
    await writeFile(path, image);
    const id = await backupFile(t.repo, path);
    // Flip one byte inside the stored object of range 1: its authentication fails.
    const [good0, damaged, good2] = await Promise.all([0, 1, 2].map(async (i) => (await chunkId(image.subarray(i * RANGE, (i + 1) * RANGE), t.repo.ctx)).toString('hex')));
    const file = join(t.dir!, chunkObjectName(Buffer.from(damaged, 'hex')));
    const bytes = await readFile(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    await writeFile(file, bytes);

    const nbd = await startNbd([id], repoEnv(t.dir!, t.indexPath));
    try {
      const uri = nbd.exports[0]!.uri;
      const io = (cmd: string) => runTool('qemu-io', ['-r', '-f', 'raw', '-c', cmd, uri]);
      const bad = await io(`read ${RANGE + 4096} 4096`);
      expect(bad.stdout + bad.stderr).toMatch(/Input\/output error/);
      for (const cmd of [`read 0 ${RANGE}`, `read ${2 * RANGE} ${RANGE}`]) {
        const good = await io(cmd);
        expect(good.code, good.stdout + good.stderr).toBe(0);
        expect(good.stdout + good.stderr).not.toMatch(/error/i);
      }
      const copy = await runTool('nbdcopy', [uri, join(work, 'copy.img')]);
      expect(copy.code).not.toBe(0);
      // Still serving: the good ranges read again, byte for byte.
      const again = await runTool('qemu-io', ['-r', '-f', 'raw', '-c', `read -P ${image[0]} 0 1`, '-c', `read 0 ${RANGE}`, uri]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain(`read ${RANGE}/${RANGE} bytes at offset 0`);
      const lines = nbd.stderr().split('\n').filter((l) => l.includes(damaged!));
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines[0]).toMatch(/bytes 4194304-8388607 .*cannot be read.*EIO/);
      expect(nbd.stderr()).not.toContain(good0!);
      expect(nbd.stderr()).not.toContain(good2!);
    } finally {
      expect((await stopNbd(nbd)).code).toBe(130);
    }
  });
});
