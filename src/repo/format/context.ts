/** What every codec needs to know about the repository it reads or writes. */
import type { RepoConfig } from './config.js';
import { FormatUsageError } from './errors.js';
import type { RepoKeys } from './keys.js';

export interface CodecContext {
  config: RepoConfig;
  /** Undefined in a plain repository; required in an encrypted one. */
  keys?: RepoKeys;
}

/** The keys when the repository is encrypted, undefined when plain; refuses a context that mixes the two. */
export function contextKeys(ctx: CodecContext): RepoKeys | undefined {
  const encrypted = ctx.config.encryption !== 'none';
  if (encrypted && !ctx.keys) throw new FormatUsageError('the repository is encrypted: open it with a password first');
  if (!encrypted && ctx.keys) throw new FormatUsageError('the repository is not encrypted, yet keys were given');
  return ctx.keys;
}
