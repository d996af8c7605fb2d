/**
 * Child process for the lock race test. Usage: locks-racer.ts REPO_DIR WORK_DIR ROUNDS.
 * Writes WORK_DIR/ready-<pid>, waits for WORK_DIR/go, then ROUNDS times tries to take the exclusive lock
 * without waiting. While holding it, it drops a marker in WORK_DIR/inside/ and counts a violation if any
 * other process's marker is there too. Prints {"acquired":n,"refused":n,"violations":n} on stdout.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, RepoLockedError } from '../../src/repo/locks.js';
import { LocalStore } from '../../src/store/local.js';

const [repoDir, workDir, roundsArg] = process.argv.slice(2) as [string, string, string];
const inside = join(workDir, 'inside');
mkdirSync(inside, { recursive: true });
writeFileSync(join(workDir, `ready-${process.pid}`), '');
while (!existsSync(join(workDir, 'go'))) await sleep(2);

const store = new LocalStore(repoDir);
const result = { acquired: 0, refused: 0, violations: 0 };
for (let round = 0; round < Number(roundsArg); round++) {
  try {
    const lock = await acquireLock(store, { exclusive: true });
    result.acquired++;
    const marker = join(inside, String(process.pid));
    writeFileSync(marker, '');
    await sleep(5);
    if (readdirSync(inside).length !== 1) result.violations++;
    rmSync(marker);
    await lock.release();
  } catch (err) {
    if (!(err instanceof RepoLockedError)) throw err;
    result.refused++;
  }
}
await store.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
