/**
 * The installed package's root directory (the one holding drivesnap's package.json), found once by walking up
 * from this module. Files that ship beside the code (package.json, the native addon) are resolved from it, so
 * their paths hold wherever the code runs from: src/ through tsx, dist/ from tsc, or the esbuild bundle under
 * dist/bundle, whose chunks sit at a different depth than the modules they were built from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'drivesnap';

/** Pure walk: the first of `start` and its ancestors whose package.json `isOurs` accepts, or undefined. */
export function findPackageRoot(start: string, isOurs: (dir: string) => boolean): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (isOurs(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function holdsOurManifest(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = findPackageRoot(here, holdsOurManifest);
if (!root) throw new Error(`${PACKAGE_NAME}: no package.json named "${PACKAGE_NAME}" above ${here}: reinstall the package`);

/** Absolute path of drivesnap's root directory. */
export const PACKAGE_ROOT: string = root;

/** An absolute path inside the package, from its root (`packagePath('native', 'isal')`). */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
