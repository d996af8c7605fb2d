/**
 * The emulator's accounts. Given ones are used as they are; otherwise the accounts saved in the data
 * directory (so a restarted emulator keeps serving the same drives to the same credentials), else one
 * fresh random account, saved there with owner-only permissions.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { UUID_RE } from './keys.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import type { EmulatorAccount } from './types.js';

const ACCOUNTS_FILE = 'accounts.json';

export function randomAccount(): EmulatorAccount {
  return { user: randomUUID(), secret: randomBytes(24).toString('base64url') };
}

/** Parses `UUID:SECRET` (the shape of EHAUTH); the error never repeats the secret. */
export function parseAccount(text: string): EmulatorAccount {
  const colon = text.indexOf(':');
  const user = colon < 0 ? text : text.slice(0, colon);
  const secret = colon < 0 ? '' : text.slice(colon + 1);
  if (!UUID_RE.test(user) || secret === '') {
    throw new UsageError('an emulator account is UUID:SECRET, e.g. 5b0c7f3e-1d2a-4c61-9f0e-2a7b8c9d0e1f:mysecret');
  }
  return { user: user.toLowerCase(), secret };
}

/** Several accounts separated by commas or whitespace (the DRIVESNAP_EMULATOR_ACCOUNTS variable). */
export function parseAccountList(text: string): EmulatorAccount[] {
  return text
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map(parseAccount);
}

export async function resolveAccounts(dataDir: string, given: EmulatorAccount[] | undefined): Promise<EmulatorAccount[]> {
  if (given && given.length > 0) {
    const seen = new Set<string>();
    for (const a of given) {
      if (!UUID_RE.test(a.user)) throw new UsageError(`emulator account user "${a.user}" is not a UUID`);
      if (seen.has(a.user)) throw new UsageError(`emulator account ${a.user} is given twice`);
      seen.add(a.user);
    }
    return given;
  }
  const path = join(dataDir, ACCOUNTS_FILE);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as EmulatorAccount[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const accounts = [randomAccount()];
  await writeFileAtomic(path, JSON.stringify(accounts), 0o600);
  return accounts;
}
