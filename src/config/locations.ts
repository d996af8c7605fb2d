/**
 * Where a command reads from or writes to (cli.md, "Locations"):
 *   `ACCOUNT:DRIVE`  a drive (DRIVE = its UUID or its unique name)
 *   `ACCOUNT:`       an account (e.g. `drives lon:`)
 *   a path           contains `/`, or starts with `file:`: a local raw image file or block device
 *   `-`              stdin or stdout
 * `ACCOUNT:` is recognised first, so `lon:web/root` is the drive named `web/root` of account lon; a file
 * whose path starts with something like `name:` is written `./name:...` or `file:name:...`.
 *
 * Pure parsing. Turning a drive name into a UUID needs the API: src/ops/resolve-drive.ts.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

export type Location =
  | { kind: 'drive'; account: string; drive: string }
  | { kind: 'account'; account: string }
  | { kind: 'file'; path: string }
  | { kind: 'stdio' };

const ACCOUNT_PREFIX = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(.*)$/s;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/**
 * yargs hands a command '' for a lone `-` argument, positional or option value (yargs/yargs#1312, open).
 * main() swaps each lone `-` before a `--` for DASH_ARG before parsing (`protectDashArgs`) and back in a
 * middleware that runs before any check (`restoreDashArgs`), so commands see `-`. DASH_ARG holds a NUL,
 * which no argument from a shell can.
 */
export const DASH_ARG = '\u0000stdio';

export function protectDashArgs(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) => (a === '-' && (end === -1 || i < end) ? DASH_ARG : a));
}

/** The yargs middleware half: every DASH_ARG value (or element of an array value) becomes `-` again. */
export function restoreDashArgs(argv: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(argv)) {
    if (value === DASH_ARG) argv[key] = '-';
    else if (Array.isArray(value) && value.includes(DASH_ARG)) argv[key] = value.map((v) => (v === DASH_ARG ? '-' : v));
  }
}

export function parseLocation(text: string): Location {
  if (text === '-' || text === DASH_ARG) return { kind: 'stdio' };
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length);
    if (path === '') throw new UsageError('`file:` needs a path after it, e.g. file:disk.img');
    return { kind: 'file', path };
  }
  const m = ACCOUNT_PREFIX.exec(text);
  if (m) {
    const account = m[1]!;
    const drive = m[2]!;
    return drive === '' ? { kind: 'account', account } : { kind: 'drive', account, drive };
  }
  if (text.includes('/')) return { kind: 'file', path: text };
  throw new UsageError(
    `${JSON.stringify(text)} is not a location: write ACCOUNT:DRIVE for a drive, ACCOUNT: for an account, ` +
      `./${text} or file:${text} for a local file, or - for stdin/stdout`,
  );
}

export function formatLocation(loc: Location): string {
  switch (loc.kind) {
    case 'drive':
      return `${loc.account}:${loc.drive}`;
    case 'account':
      return `${loc.account}:`;
    case 'file':
      return loc.path.includes('/') && !ACCOUNT_PREFIX.test(loc.path) ? loc.path : `file:${loc.path}`;
    case 'stdio':
      return '-';
  }
}

/**
 * The drive a `--drive` argument names, in the form snapshots record it. A backup of an image file records
 * `file:` and the file's absolute path, so a path given here (relative, `./one.bin`, or `file:one.bin`) is
 * made absolute the same way; a drive name, UUID or ACCOUNT:DRIVE is returned as it is.
 */
export function snapshotDriveSelector(text: string): string {
  let loc: Location;
  try {
    loc = parseLocation(text);
  } catch {
    return text; // a bare drive name or UUID
  }
  return loc.kind === 'file' ? fileDriveId(loc.path) : text;
}

/** How a backup records an image file as its drive: `file:` and the absolute path. */
export function fileDriveId(path: string): string {
  return `file:${resolve(path)}`;
}

/** Parses and insists on a kind, naming the argument in the error. */
export function expectLocation<K extends Location['kind']>(text: string, kinds: K[], what: string): Extract<Location, { kind: K }> {
  const loc = parseLocation(text);
  if (!(kinds as string[]).includes(loc.kind)) {
    const names: Record<Location['kind'], string> = { drive: 'ACCOUNT:DRIVE', account: 'ACCOUNT:', file: 'a file path', stdio: '-' };
    throw new UsageError(`${what} must be ${kinds.map((k) => names[k]).join(' or ')}, not ${JSON.stringify(text)}`);
  }
  return loc as Extract<Location, { kind: K }>;
}
