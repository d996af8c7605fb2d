/**
 * Starts deriving the repository's key (scrypt: ~0.1 s of one core, on the thread pool) while the CLI's
 * modules load, instead of after them: the command's own open of the repository (Repository.open, then
 * openKeyFile) finds the derivation done or under way (src/repo/format/password-key.ts). Measured on an
 * incremental backup, the main thread loaded modules for ~0.2 s while the other core idled, then waited
 * ~0.1 s for scrypt alone. bin/drivesnap calls this from a bundle entry of its own before it loads the CLI
 * (this module imports nothing heavy); main.ts calls it too, for the unbundled CLI; the second call does nothing.
 *
 * It is a guess from argv and the environment made before yargs reads them, so it never decides anything:
 * when it guesses another repository, password or key file, the open derives as it always did, and every
 * failure here is silent (the open reports its own). Local repositories only (an S3 one would load the SDK),
 * and a --password-file only when it is a regular file (a pipe read here would be empty for the real read).
 */
import { readFile, stat } from 'node:fs/promises';
import { passwordFromEnv, passwordFromFileText, repoFromEnv } from '../config/env.js';
import { deriveKeysAhead } from '../repo/keys-ahead.js';
import { LocalStore } from '../store/local.js';
import { parseRepositoryLocation } from '../store/location.js';

/** Commands that open the repository whatever their other arguments (copy, init and key may not). */
const OPENS_REPOSITORY = new Set(['backup', 'restore', 'snapshots', 'nbd', 'forget', 'prune', 'check', 'diff', 'stats', 'cat']);
let started = false;

export function deriveRepositoryKeyEarly(argv: readonly string[]): void {
  if (started) return;
  started = true;
  const command = argv.find((a) => !a.startsWith('-'));
  if (command === undefined || !OPENS_REPOSITORY.has(command) || argv.includes('--help') || argv.includes('-h')) return;
  const location = optionValue(argv, ['--repo', '-r']) ?? repoFromEnv();
  if (location === undefined) return;
  startDerivation(location, optionValue(argv, ['--password-file'])).catch(() => {});
}

async function startDerivation(location: string, passwordFile: string | undefined): Promise<void> {
  const repo = parseRepositoryLocation(location);
  if (repo.kind !== 'local') return;
  const password = passwordFile === undefined ? passwordFromEnv() : await regularFileText(passwordFile);
  if (!password) return;
  // A bare store: the open composes its wrappers (src/store/open.ts); a read-only peek needs none.
  await deriveKeysAhead(new LocalStore(repo.dir), password);
}

async function regularFileText(path: string): Promise<string | undefined> {
  if (!(await stat(path)).isFile()) return undefined;
  return passwordFromFileText(await readFile(path, 'utf8'));
}

/** The value of the last of `names` in argv, as `--name value`, `--name=value` or `-r value`. */
export function optionValue(argv: readonly string[], names: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    for (const name of names) {
      if (arg === name && i + 1 < argv.length) value = argv[i + 1];
      else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
    }
  }
  return value;
}
