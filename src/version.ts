import { readFileSync } from 'node:fs';
import { packagePath } from './util/package-root.js';

/** The package's version, from package.json (one source of truth). */
export const TOOL_VERSION: string = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
