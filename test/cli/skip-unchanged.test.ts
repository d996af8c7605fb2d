/**
 * Issue 11 §1 from the CLI: `backup` of an untouched API drive says how its snapshot was made (human line
 * and --json `made`, plus the repository's `codec`), `snapshots` shows it (a column, and --json `made`),
 * and `backup --read-all` reads the drive in full.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/engine-cli.js';
import { Cleanup, type CliWorld, cliWorld, makeImage } from '../helpers/engine-fixtures.js';
import { defaultLevelCodec } from '../helpers/codec-labels.js';

describe('backup of an untouched drive, from the CLI', () => {
  const cleanup = new Cleanup();
  const image = makeImage([{ random: 1 }, 'zero', { text: 2 }, 'zero', 'zero', { random: 3 }]);
  let w: CliWorld;

  beforeAll(async () => {
    w = await cliWorld(cleanup, { encrypted: false, driveName: 'vol', image });
  });
  afterAll(() => cleanup.run());

  it('says how each snapshot was made, in backup and snapshots, as text and --json', async () => {
    const first = await runCli(['backup', 'eh:vol', '--json'], w.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.find((e) => e.event === 'snapshot')).toMatchObject({ made: 'full read', codec: defaultLevelCodec(), bytesRead: image.length });

    const second = await runCli(['backup', 'eh:vol'], w.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/snapshot [0-9a-f]{12} of eh:vol \(counters \+ 4 sampled\)/);

    const all = await runCli(['backup', 'eh:vol', '--read-all', '--json'], w.env);
    expect(all.code, all.stderr).toBe(0);
    expect(all.json.find((e) => e.event === 'snapshot')).toMatchObject({ made: 'full read', bytesRead: image.length });

    const listed = await runCli(['snapshots', '--json'], w.env);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { made: string | null }[];
    expect(rows.map((r) => r.made)).toEqual(['full read', 'counters + 4 sampled', 'full read']);
    const table = await runCli(['snapshots'], w.env);
    expect(table.stdout).toMatch(/Made/);
    expect(table.stdout).toMatch(/counters \+ 4 sampled/);

    const stats = await runCli(['stats', '--json'], w.env);
    expect(stats.code, stats.stderr).toBe(0);
    const drive = (JSON.parse(stats.stdout) as { perDrive: { fullReads: number; fromCounters: number; lastFullReadAt?: string }[] }).perDrive[0];
    const fullReadTimes = (JSON.parse(listed.stdout) as { made: string; time: string }[]).filter((r) => r.made === 'full read').map((r) => r.time);
    expect(drive).toMatchObject({ fullReads: 2, fromCounters: 1, lastFullReadAt: expect.any(String) });
    expect(Date.parse(drive!.lastFullReadAt!)).toBeGreaterThanOrEqual(Math.max(...fullReadTimes.map((t) => Date.parse(t))) - 60_000);
    const statsText = await runCli(['stats'], w.env);
    expect(statsText.stdout).toMatch(/Made/);
    expect(statsText.stdout).toMatch(/2 full, 1 counters/);
  });
});
