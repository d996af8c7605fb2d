/**
 * What a drive-to-drive `copy` hashes to keep its record for the next copy (issue 10: 1.4 GB of SHA-256 per
 * copy of the workload drive), from the CLI with an encrypted repository as the benchmark runs it: every
 * range read when nothing else knows the source's ids, only the sample when the repository holds a snapshot
 * the source still matches; the record serves the next copy either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IoCounters } from '../../src/api/drive-info.js';
import { runCli } from '../helpers/engine-cli.js';
import { Cleanup, type CliWorld, RANGE, cliWorld, makeImage, readWholeDrive } from '../helpers/engine-fixtures.js';

/** Eight ranges, two of them zeros: the sample (first, last and two between) is half the drive. */
const image = makeImage([{ random: 1 }, { random: 2 }, 'zero', { text: 3 }, { random: 4 }, 'zero', { random: 5 }, { random: 6 }]);
const DATA_RANGES = 6;
const SAMPLED = 4;

describe('the range ids a drive-to-drive copy keeps', () => {
  const cleanup = new Cleanup();
  let w: CliWorld;

  beforeAll(async () => {
    w = await cliWorld(cleanup, { encrypted: true, driveName: 'vol', image });
  });
  afterAll(() => cleanup.run());

  const uuidOf = async (name: string) => (await w.c.listDriveInfo()).find((d) => d.name === name)!.uuid;
  const counters = async (name: string): Promise<IoCounters> => (await w.c.driveInfo(await uuidOf(name))).ioCounters!;
  const copyJson = async (args: string[], env = w.env) => {
    const r = await runCli(['copy', ...args, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return r.json.at(-1) as { plan: Record<string, unknown>; rangeIds: string; hashedBytes: number };
  };

  it('hashes every range of data read when no snapshot knows the source, and only the sample when one does', async () => {
    const hashed = await copyJson(['eh:vol', 'eh:first', '--to-new']);
    expect(hashed.rangeIds).toBe('hashed');
    expect(hashed.hashedBytes).toBe(DATA_RANGES * RANGE);

    expect((await runCli(['backup', 'eh:vol'], w.env)).code).toBe(0);
    const sampled = await copyJson(['eh:vol', 'eh:second', '--to-new']);
    expect(sampled.plan).toEqual({ kind: 'new-target' });
    expect(sampled.rangeIds).toBe('snapshot');
    // First and last always hold data here; the two between may be zeros, which need no hash.
    expect(sampled.hashedBytes).toBeGreaterThanOrEqual(2 * RANGE);
    expect(sampled.hashedBytes).toBeLessThanOrEqual(SAMPLED * RANGE);
    expect((await readWholeDrive(w.c, await uuidOf('second'))).equals(image)).toBe(true);

    // The record taken from the snapshot serves as a hashed one does: nothing to read in full, nothing written.
    for (const target of ['first', 'second']) {
      const before = await counters(target);
      const again = await copyJson(['eh:vol', `eh:${target}`]);
      expect(again.plan).toMatchObject({ kind: 'copy-ranges', ranges: 0 });
      expect((await counters(target)).writeBytes).toBe(before.writeBytes);
    }
  });

  it('without a repository hashes plain SHA-256 of every range of data, and the record serves the next copy', async () => {
    const { DRIVESNAP_REPO: _none, ...env } = w.env;
    const first = await copyJson(['eh:vol', 'eh:plain', '--to-new'], env);
    expect(first.rangeIds).toBe('hashed');
    expect(first.hashedBytes).toBe(DATA_RANGES * RANGE);
    const before = await counters('plain');
    const again = await copyJson(['eh:vol', 'eh:plain'], env);
    expect(again.plan).toMatchObject({ kind: 'copy-ranges', ranges: 0, baseline: 'copy' });
    expect((await counters('plain')).writeBytes).toBe(before.writeBytes);
  });
});
