/**
 * The drive API seen from the CLI when the link misbehaves, against the emulator's injected faults: every
 * retry is visible (a --json event per retry and a count at the end; a line per retry in a log), and a
 * link that trickles (the `slow` fault) fails the job once it stays below the minimum rate, instead of
 * running forever. The minimum rate is set high and the base allowance low so that happens in seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { type CliResult, spawnCli } from '../helpers/engine-cli.js';
import { finishWithin } from './hardening-bounded.js';
import { apiClient, Cleanup, createDriveWith, emulator, emulatorCliEnv, localRepo, makeImage, RANGE } from '../helpers/engine-fixtures.js';

const RUN_LIMIT_MS = 60_000;
const TINY = makeImage([{ random: 85 }], 64 * 1024);
const IMAGE = makeImage([{ text: 81 }, { random: 82 }, { text: 83 }, { random: 84 }], RANGE / 2);

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let env: NodeJS.ProcessEnv;
let repoDir: string;

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  const work = await cleanup.tempDir();
  const t = await localRepo(cleanup, true);
  t.repo.index.close();
  repoDir = t.dir!;
  await createDriveWith(c, 'web', IMAGE);
  await createDriveWith(c, 'tiny', TINY);
  env = await emulatorCliEnv(emu, work, { DRIVESNAP_REPO: repoDir });
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

describe('a link that trickles', () => {
  const FAST_DEADLINE = { DRIVESNAP_API_MIN_RATE: '1M', DRIVESNAP_API_BASE_MS: '300' };

  it('backup: each read stalls below the minimum rate, is retried, and the job fails saying so', async () => {
    emu.setFaults({ slowBodyBytesPerSec: 20, calls: ['read'] });
    try {
      const r = await runBounded(['backup', 'eh:tiny', '--json'], FAST_DEADLINE);
      expect(r.code).not.toBe(0);
      const retries = r.json.filter((j) => j.event === 'retry');
      expect(retries.length).toBeGreaterThan(0);
      expect(retries[0]).toMatchObject({ layer: 'api', kind: 'connection', error: expect.stringContaining('stalled below 1.00 MiB/s') });
      expect(r.stderr).toMatch(/read of 64\.0 KiB from drive [0-9a-f-]+ stalled below 1\.00 MiB\/s/);
    } finally {
      emu.setFaults(undefined);
    }
  });

  it('restore: an answer that trickles stalls, is retried, and the job fails saying so', async () => {
    const b = await runBounded(['backup', 'eh:tiny', '--json'], FAST_DEADLINE);
    expect(b.code, b.stderr).toBe(0);
    emu.setFaults({ slowBodyBytesPerSec: 20, calls: ['info'] });
    try {
      const r = await runBounded(['restore', 'latest', '--drive', 'eh:tiny', '--to', 'eh:tiny', '--force', '--json'], FAST_DEADLINE);
      expect(r.code).not.toBe(0);
      expect(r.json.some((j) => j.event === 'retry' && String(j.error).includes('stalled below 1.00 MiB/s'))).toBe(true);
      expect(r.stderr).toContain('stalled below 1.00 MiB/s');
    } finally {
      emu.setFaults(undefined);
    }
  });
});
