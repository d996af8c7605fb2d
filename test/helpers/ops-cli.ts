/** Spawns the CLI (with the ops commands) in a child process; see ops-cli-entry.ts. */
import { fileURLToPath } from 'node:url';
import { type CliChild, type CliResult, spawnCli } from './engine-cli.js';

export { cliEnv, waitUntil } from './engine-cli.js';
export type { CliResult } from './engine-cli.js';

const ENTRY = fileURLToPath(new URL('./ops-cli-entry.ts', import.meta.url));

export function spawnOps(args: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string) => void): CliChild {
  return spawnCli(args, env, onStdout, ENTRY);
}

export function runOps(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return spawnOps(args, env).done;
}
