/**
 * `--listen HOST:PORT`, shared by `emulator` and `nbd`. Its own module so that `nbd` does not load the
 * emulator just to read an address.
 */
import { UsageError } from '../errors.js';

/** HOST:PORT, [IPv6]:PORT, or :PORT (loopback). Port 0 asks for any free port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new UsageError(`--listen ${text}: expected HOST:PORT, e.g. 127.0.0.1:8020`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
