/**
 * Issue 11 §2 from the CLI: `copy` says how it went about the copy (human `plan:` line and --json `plan`),
 * a repeated copy between the same two drives with nothing changed writes nothing, `--compare-all` reads
 * both drives in full, a snapshot of the changed source in the repository ($DRIVESNAP_REPO) lets the copy
 * read and write only the changed range, and image files always take the full compare.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IoCounters } from '../../src/api/drive-info.js';
import { runCli } from '../helpers/engine-cli.js';
import { Cleanup, type CliWorld, RANGE, cliWorld, makeImage, readWholeDrive } from '../helpers/engine-fixtures.js';

describe('copy between the same two drives, from the CLI (plain repository)', () => {
  const cleanup = new Cleanup();
  const image = makeImage([{ random: 1 }, 'zero', { text: 2 }, 'zero', 'zero', { random: 3 }]);
  let w: CliWorld;

  beforeAll(async () => {
    w = await cliWorld(cleanup, { encrypted: false, driveName: 'vol', image });
  });
  afterAll(() => cleanup.run());

  const uuidOf = async (name: string) => (await w.c.listDriveInfo()).find((d) => d.name === name)!.uuid;
  const counters = async (uuid: string): Promise<IoCounters> => (await w.c.driveInfo(uuid)).ioCounters!;
  const copyJson = async (args: string[]) => {
    const r = await runCli(['copy', ...args, '--json'], w.env);
    expect(r.code, r.stderr).toBe(0);
    return r.json.at(-1) as { plan: Record<string, unknown>; bytesRead: number; sampledBytes: number };
  };

  it('plans from the last copy, says so, and --compare-all reads both drives', async () => {
    expect((await copyJson(['eh:vol', 'eh:mirror', '--to-new'])).plan).toEqual({ kind: 'new-target' });
    const vol = await uuidOf('vol');
    const mirror = await uuidOf('mirror');

    const before = await counters(mirror);
    const again = await copyJson(['eh:vol', 'eh:mirror']);
    expect(again.plan).toEqual({ kind: 'copy-ranges', ranges: 0, sampled: 8, baseline: 'copy' });
    expect(again.bytesRead).toBe(0);
    expect(again.sampledBytes).toBe(8 * RANGE);
    const after = await counters(mirror);
    expect(after.writeBytes).toBe(before.writeBytes);
    expect(after.readBytes - before.readBytes).toBe(4 * RANGE);

    const text = await runCli(['copy', 'eh:vol', 'eh:mirror'], w.env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/plan: copy-ranges \(0 ranges changed since the last copy, 8 sampled\)/);

    const srcBefore = await counters(vol);
    const forced = await copyJson(['eh:vol', 'eh:mirror', '--compare-all']);
    expect(forced.plan).toEqual({ kind: 'full-compare', reason: 'compare-all' });
    expect((await counters(vol)).readBytes - srcBefore.readBytes).toBe(image.length);
    expect(forced.bytesRead).toBe(2 * image.length);
  });

  it("with a snapshot of the changed source in the repository, reads and writes only the changed range", async () => {
    const vol = await uuidOf('vol');
    const mirror = await uuidOf('mirror');
    const changed = Buffer.from(image);
    changed.fill(7, 2 * RANGE, 2 * RANGE + 4096);
    await w.c.writeDrive(vol, 2 * RANGE, changed.subarray(2 * RANGE, 2 * RANGE + 4096), { encoding: 'raw' });
    const backup = await runCli(['backup', 'eh:vol'], w.env);
    expect(backup.code, backup.stderr).toBe(0);

    const [s0, m0] = [await counters(vol), await counters(mirror)];
    const resync = await copyJson(['eh:vol', 'eh:mirror']);
    expect(resync.plan).toEqual({ kind: 'copy-ranges', ranges: 1, sampled: 8, baseline: 'snapshot' });
    const [s1, m1] = [await counters(vol), await counters(mirror)];
    expect(s1.readBytes - s0.readBytes).toBe(5 * RANGE);
    expect(m1.readBytes - m0.readBytes).toBe(4 * RANGE);
    expect(m1.writeBytes - m0.writeBytes).toBe(RANGE);
    expect((await readWholeDrive(w.c, mirror)).equals(changed)).toBe(true);
  });

  it('from or to an image file: no counters, always the full compare', async () => {
    const file = join(w.work, 'vol.img');
    expect((await copyJson(['eh:vol', file])).plan).toEqual({ kind: 'new-target' });
    const again = await copyJson(['eh:vol', file]);
    expect(again.plan).toEqual({ kind: 'full-compare', reason: 'image-file' });
    expect(again.bytesRead).toBe(2 * image.length);
    expect((await readFile(file)).equals(await readWholeDrive(w.c, await uuidOf('vol')))).toBe(true);
  });
});

describe('copy with an encrypted repository', () => {
  const cleanup = new Cleanup();
  const image = makeImage([{ random: 4 }, { random: 5 }, 'zero', { text: 6 }, { random: 7 }]);
  let w: CliWorld;

  beforeAll(async () => {
    w = await cliWorld(cleanup, { encrypted: true, driveName: 'vol', image });
  });
  afterAll(() => cleanup.run());

  it("hashes as the repository does, so the source's snapshot serves; a repository it cannot open costs only the shortcut", async () => {
    const first = await runCli(['copy', 'eh:vol', 'eh:mirror', '--to-new', '--json'], w.env);
    expect(first.code, first.stderr).toBe(0);
    const vol = (await w.c.listDriveInfo()).find((d) => d.name === 'vol')!.uuid;
    const mirror = (await w.c.listDriveInfo()).find((d) => d.name === 'mirror')!.uuid;
    const changed = Buffer.from(image);
    changed.fill(9, 4 * RANGE, 4 * RANGE + 512);
    await w.c.writeDrive(vol, 4 * RANGE, changed.subarray(4 * RANGE, 4 * RANGE + 512), { encoding: 'raw' });
    expect((await runCli(['backup', 'eh:vol'], w.env)).code).toBe(0);

    const resync = await runCli(['copy', 'eh:vol', 'eh:mirror', '--json'], w.env);
    expect(resync.code, resync.stderr).toBe(0);
    expect(resync.json.at(-1)!.plan).toEqual({ kind: 'copy-ranges', ranges: 1, sampled: 8, baseline: 'snapshot' });
    expect((await readWholeDrive(w.c, mirror)).equals(changed)).toBe(true);

    // A wrong password: the copy still runs, in full, and says why it could not use the repository.
    const wrong = await runCli(['copy', 'eh:vol', 'eh:mirror', '--json'], { ...w.env, DRIVESNAP_PASSWORD: 'not-the-password' });
    expect(wrong.code, wrong.stderr).toBe(0);
    expect(wrong.stderr).toMatch(/warning: cannot open the repository .* copying without it/);
    expect(wrong.stderr).not.toContain('not-the-password');
    expect(wrong.json.at(-1)!.plan).toEqual({ kind: 'full-compare', reason: 'no-record' });
    expect((await readWholeDrive(w.c, mirror)).equals(changed)).toBe(true);
  });
});
