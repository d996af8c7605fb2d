/**
 * Starts the key derivations a repository's key files ask for, ahead of the repository's open
 * (src/cli/early-unlock.ts): Repository.open then finds them done when the password is the same
 * (src/repo/format/password-key.ts). Reads only; every failure is the caller's to ignore.
 */
import { KEYS_PREFIX } from './format/ids.js';
import { deriveAhead } from './format/password-key.js';
import type { ObjectStore } from '../store/types.js';

/** A repository rarely has more key files; a directory full of them must not start a derivation each. */
const KEY_FILES_PEEKED = 4;

export async function deriveKeysAhead(store: ObjectStore, password: string): Promise<void> {
  const names: string[] = [];
  for await (const o of store.list(KEYS_PREFIX)) {
    names.push(o.name);
    if (names.length === KEY_FILES_PEEKED) break;
  }
  for (const name of names) deriveAhead(await store.get(name), password);
}
