/**
 * `backup --drives N` from the command line: several drives of `--all` backed up at once, their progress
 * events (--json) carrying the fleet's counts, one snapshot event per drive; a bad --drives is a usage
 * error (exit 2) before any work; a job file's parallelDrives is checked like any field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJobFile } from '../../src/ops/jobfile.js';
import { runCli } from '../helpers/engine-cli.js';
import { Cleanup, type CliWorld, cliWorld, createDriveWith, makeImage } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
let w: CliWorld;

beforeAll(async () => {
  w = await cliWorld(cleanup, { encrypted: false, driveName: 'fleet-0', image: makeImage([{ random: 1 }, { random: 2 }]) });
  for (let i = 1; i < 3; i++) await createDriveWith(w.c, `fleet-${i}`, makeImage([{ random: 10 + i }, { random: 20 + i }]));
});
afterAll(() => cleanup.run());

describe('backup --drives', () => {
  it('backs up every drive of --all, reporting progress with the fleet counts', async () => {
    const r = await runCli(['backup', '--all', 'eh:', '--drives', '3', '--json'], w.env);
    expect(r.code, r.stderr).toBe(0);
    const snapshots = r.json.filter((e) => e.event === 'snapshot').map((e) => e.location);
    expect(snapshots.sort()).toEqual(['eh:fleet-0', 'eh:fleet-1', 'eh:fleet-2']);
    const progress = r.json.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (const p of progress) expect(p).toMatchObject({ drivesTotal: 3, drivesInFlight: expect.any(Number), drivesDone: expect.any(Number) });
    // A drive's final progress event counts it done: the last one's says all three are.
    expect(Math.max(...progress.map((p) => p.drivesDone as number))).toBe(3);
    expect(progress.at(-1)).toMatchObject({ drivesDone: 3, drivesInFlight: 0 });
  });

  it('refuses --drives 0 with a usage error naming the option, backing nothing up', async () => {
    const r = await runCli(['backup', '--all', 'eh:', '--drives', '0'], w.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--drives takes a whole number from 1 to 64/);
  });

  it('a job file takes parallelDrives from 1 to 64', () => {
    const job = (extra: string) => `repository: { location: ./repo }\ndrives: [eh:web]\n${extra}\n`;
    expect(loadJobFile(job('parallelDrives: 6'), 'j.yaml').parallelDrives).toBe(6);
    expect(() => loadJobFile(job('parallelDrives: 0'), 'j.yaml')).toThrow('j.yaml:3: parallelDrives: expected a whole number from 1 to 64');
  });
});
