/**
 * borg (fixed 4 MiB, zstd,3) and restic backing up given files as a sequence of archives, for the
 * workloads beyond the main one: the incompressible image, and the fleet (a full, then a nightly of the
 * same paths after some files changed in place, so both peers' files caches skip untouched files as
 * they would in real use).
 */
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { dirSize, measureCommand, settleDisk, warmFiles } from './measure.js';
import { type PeerResult, type PeerStep, type PeerVersions, borgEnv, resticEnv, rowMaker } from './peers.js';

export interface ArchiveStep {
  step: PeerStep;
  /** Files in one directory, backed up by their names from it. */
  files: string[];
  imageBytes: number;
  /** Runs (untimed) before the step: e.g. changing some files in place. */
  before?: () => Promise<void>;
}

/** One fresh repository per peer; each step one archive (borg) or snapshot (restic) of its files. */
export async function runPeerArchives(
  versions: PeerVersions,
  workDir: string,
  plan: ArchiveStep[],
  log: (line: string) => void,
  reset?: () => Promise<void>,
): Promise<PeerResult[]> {
  const out: PeerResult[] = [];
  for (const tool of ['borg', 'restic'] as const) {
    const version = versions[tool];
    if (!version) continue;
    const dir = join(workDir, tool);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const repo = join(dir, 'repo');
    try {
      await reset?.();
      const env = tool === 'borg' ? borgEnv(dir) : resticEnv(dir);
      const variant = tool === 'borg' ? 'zstd,3' : 'repo-v2';
      if (tool === 'borg') await measureCommand('borg', ['init', '-e', 'none', repo], { env });
      else await measureCommand('restic', ['init'], { env });
      for (const s of plan) {
        await s.before?.();
        log(`peers: ${tool}: ${s.step}`);
        const names = s.files.map((f) => basename(f));
        const cwd = dirname(s.files[0]!);
        const args =
          tool === 'borg'
            ? ['create', '--chunker-params', 'fixed,4194304', '--compression', 'zstd,3', `${repo}::${s.step}`, ...names]
            : ['backup', '--quiet', '--host', 'drivesnap-bench', ...names];
        await warmFiles(s.files);
        await settleDisk();
        const m = await measureCommand(tool, args, { env, cwd });
        out.push({ ...rowMaker(tool, variant, version, 0, s.imageBytes)(s.step, m), repoBytes: await dirSize(repo) });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}
