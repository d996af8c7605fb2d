/**
 * prune racing a backup from another process loses nothing. Round after round a backup and a prune start
 * at the same moment as two CLI processes (with garbage for the prune to delete); each either finishes or
 * fails with exit 11 (locked): never anything else. Afterwards every snapshot made restores
 * byte-identical and `check --read-data` is clean.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/ops/check.js';
import type { Repository } from '../../src/repo/repository.js';
import { Cleanup, makeImage } from '../helpers/engine-fixtures.js';
import { spawnOps } from '../helpers/ops-cli.js';
import { fileHash, initRepo, repoEnv, restoredHash, strayChunks, writeImage } from '../helpers/ops-fixtures.js';

const ROUNDS = 3;
const cleanup = new Cleanup();
let dir: string;
let repoDir: string;
let repo: Repository;
const made: { snapshot: string; hash: string }[] = [];
const outcomes: { backup: number | null; prune: number | null }[] = [];

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-prune-race-');
  repoDir = join(dir, 'repo');
  repo = await initRepo(cleanup, repoDir, join(dir, 'host-a.sqlite'));
});
afterAll(() => cleanup.run());

describe('prune racing a backup', () => {
  it(`${ROUNDS} rounds: each process finishes or fails with exit 11, nothing else`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const img = join(dir, `disk-${round}.img`);
      // Shares range 0 with every round (dedup across the race), plus content new this round.
      await writeImage(img, makeImage([{ random: 1 }, { random: 100 + round }, 'zero']));
      await strayChunks(repo, 20, `garbage-${round}`);
      // Two hosts: each CLI process has its own index, as on two machines.
      const b = spawnOps(['backup', img, '--json'], repoEnv(repoDir, join(dir, 'host-backup.sqlite')));
      const p = spawnOps(['prune', '--json'], repoEnv(repoDir, join(dir, 'host-prune.sqlite')));
      const [br, pr] = await Promise.all([b.done, p.done]);
      outcomes.push({ backup: br.code, prune: pr.code });
      expect([0, 11], br.stderr).toContain(br.code);
      expect([0, 11], pr.stderr).toContain(pr.code);
      const snap = br.json.find((j) => j.event === 'snapshot');
      if (br.code === 0) made.push({ snapshot: String(snap?.snapshot), hash: await fileHash(img) });
    }
  });

  it('every snapshot made restores byte-identical, and check --read-data is clean', async () => {
    expect(made.length).toBeGreaterThan(0);
    if (process.env.OPS_TEST_VERBOSE) console.info(outcomes);
    await repo.sync();
    expect(new Set(repo.index.listSnapshots().map((s) => s.id))).toEqual(new Set(made.map((m) => m.snapshot)));
    for (const m of made) expect(await restoredHash(repo, m.snapshot, dir)).toBe(m.hash);
    expect((await checkRepository(repo, { readData: 1 })).problems).toEqual([]);
  });
});
