/**
 * Issue 11 §2 from the CLI: `restore SNAP --to eh:DRIVE` onto a drive its latest snapshot still proves
 * rolls back reading only the sample (the emulator's counters say so) and says so (`plan`, text and --json),
 * `--verify` still reads everything back, `--read-all` reads and compares every range, and once our writes
 * moved the drive's counters the next restore reads and compares and says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSize } from '../../src/ops/change-detection.js';
import { runCli } from '../helpers/engine-cli.js';
import { Cleanup, type CliWorld, cliWorld, makeImage, RANGE, readWholeDrive, sha256 } from '../helpers/engine-fixtures.js';

describe('restore onto a drive a snapshot proves, from the CLI', () => {
  const cleanup = new Cleanup();
  const image = makeImage([{ random: 1 }, 'zero', { text: 2 }, 'zero', 'zero', { random: 3 }, 'zero', { text: 4 }]);
  let w: CliWorld;

  beforeAll(async () => {
    w = await cliWorld(cleanup, { encrypted: true, driveName: 'vol', image });
  });
  afterAll(() => cleanup.run());

  async function backup(): Promise<string> {
    const r = await runCli(['backup', 'eh:vol', '--json'], w.env);
    expect(r.code, r.stderr).toBe(0);
    return r.json.find((e) => e.event === 'snapshot')!.snapshot as string;
  }

  async function restore(args: string[]) {
    w.emu.resetStats();
    const r = await runCli(['restore', ...args], w.env);
    expect(r.code, r.stderr).toBe(0);
    return { r, read: w.emu.stats().readBytes, written: w.emu.stats().writeBytes };
  }

  it('rolls back reading only the sample, says how it planned, and falls back to read and compare when told or when unproven', async () => {
    const before = await backup();
    const uuid = (await w.c.listDriveInfo()).find((d) => d.name === 'vol')!.uuid;
    await w.c.writeDrive(uuid, 1 * RANGE, Buffer.alloc(RANGE, 0x11), { encoding: 'raw' });
    await w.c.writeDrive(uuid, 5 * RANGE, Buffer.alloc(RANGE, 0x22), { encoding: 'raw' });
    const last = await backup();

    const sample = (sampleSize(8) + 2) * RANGE;
    const rollback = await restore([before, '--to', 'eh:vol', '--verify', '--json']);
    const result = rollback.r.json.find((e) => 'plan' in e)!;
    expect(result).toMatchObject({ plan: `rollback from snapshot ${last.slice(0, 8)}, 4 sampled`, verified: 8, bytesRead: sample, drive: uuid });
    // The sample, then --verify's read-back; the two differing ranges written.
    expect(rollback.read).toBe(sample + image.length);
    expect(rollback.written).toBe(2 * RANGE);
    expect(sha256(await readWholeDrive(w.c, uuid))).toBe(sha256(image));

    // The rollback's own writes moved the counters: nothing proves the drive now.
    const unproven = await restore([last, '--to', 'eh:vol']);
    expect(unproven.r.stdout).toContain(`plan: read and compare (target written since snapshot ${last.slice(0, 8)})`);
    expect(unproven.read).toBe(image.length);
    expect(unproven.written).toBe(2 * RANGE);

    // A fresh snapshot proves it again, but --read-all reads and compares every range anyway.
    await backup();
    const forced = await restore([before, '--to', 'eh:vol', '--read-all', '--json']);
    expect(forced.r.json.find((e) => 'plan' in e)).toMatchObject({ plan: 'read and compare (--read-all)', bytesRead: image.length });
    expect(forced.read).toBe(image.length);
    expect(forced.written).toBe(2 * RANGE);
    expect(sha256(await readWholeDrive(w.c, uuid))).toBe(sha256(image));
  });
});
