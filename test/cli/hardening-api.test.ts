/**
 * The drive API seen from the CLI when the link misbehaves, against the emulator's injected faults: every
 * retry is visible (a --json event per retry and a count at the end; a line per retry in a log).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { type CliResult, spawnCli } from '../helpers/engine-cli.js';
import { finishWithin } from './hardening-bounded.js';
import { apiClient, Cleanup, createDriveWith, emulator, emulatorCliEnv, localRepo, makeImage, RANGE } from '../helpers/engine-fixtures.js';

const RUN_LIMIT_MS = 60_000;
const IMAGE = makeImage([{ text: 81 }, { random: 82 }, { text: 83 }, { random: 84 }], RANGE / 2);

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  const work = await cleanup.tempDir();
  const t = await localRepo(cleanup, true);
  t.repo.index.close();
  await createDriveWith(c, 'web', IMAGE);
  env = await emulatorCliEnv(emu, work, { DRIVESNAP_REPO: t.dir! });
});
afterAll(() => cleanup.run());

function runBounded(args: string[], vars: Record<string, string> = {}): Promise<CliResult> {
  return finishWithin(spawnCli(args, { ...env, ...vars }), RUN_LIMIT_MS, `drivesnap ${args.join(' ')}`);
}

describe('retries are visible', () => {
  it('backup --json through busy answers: a retry event for each, and their count at the end', async () => {
    emu.setFaults({ busyRate: 0.4, seed: 3, calls: ['read'] });
    try {
      const r = await runBounded(['backup', 'eh:web', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const retries = r.json.filter((j) => j.event === 'retry');
      expect(retries.length).toBeGreaterThan(0);
      for (const e of retries) {
        expect(e).toMatchObject({ layer: 'api', kind: 'busy', operation: expect.stringMatching(/^GET \/drives\/[^/]+\/read\//) });
      }
      expect(r.json.find((j) => j.event === 'retries')).toEqual({ event: 'retries', total: retries.length, byLayer: { api: retries.length } });
    } finally {
      emu.setFaults(undefined);
    }
  });

  it('backup without --json, stderr a log: one line per retry and the count at the end', async () => {
    emu.setFaults({ busyRate: 0.4, seed: 5, calls: ['read'] });
    try {
      const r = await runBounded(['backup', 'eh:web']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('retrying GET /drives/'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines[0]).toMatch(/ in \d+ (ms|s) \(attempt \d+ failed: busy: /);
      expect(r.stderr).toContain(`${lines.length} ${lines.length === 1 ? 'retry' : 'retries'} (api ${lines.length})`);
    } finally {
      emu.setFaults(undefined);
    }
  });
});
