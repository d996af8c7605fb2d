/** HTTP Basic authentication against the emulator's accounts (user UUID : secret API key). */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { EmulatorHttpError } from './http-error.js';
import type { EmulatorAccount } from './types.js';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Returns the account the request authenticates as, or throws 401 auth (never echoing what was sent). */
export function authenticate(headers: IncomingHttpHeaders, accounts: Map<string, EmulatorAccount>): EmulatorAccount {
  const header = headers.authorization;
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) throw new EmulatorHttpError('auth', 'HTTP Basic authentication required (user UUID and secret API key)');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const account = colon > 0 ? accounts.get(decoded.slice(0, colon)) : undefined;
  if (!account || !sameSecret(decoded.slice(colon + 1), account.secret)) {
    throw new EmulatorHttpError('auth', 'wrong user UUID or secret API key');
  }
  return account;
}
