import { createRequire } from 'node:module';

/** The package's version, from package.json (one source of truth). */
export const TOOL_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
