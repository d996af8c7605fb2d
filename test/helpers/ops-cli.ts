/** Spawns the CLI (with the ops commands) in a child process; see ops-cli-entry.ts. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type CliChild, type CliResult, parseJsonLines } from './engine-cli.js';

export { cliEnv, waitUntil } from './engine-cli.js';
export type { CliResult } from './engine-cli.js';

const ENTRY = fileURLToPath(new URL('./ops-cli-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function spawnOps(args: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string) => void): CliChild {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    stdout += t;
    onStdout?.(stdout);
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, json: parseJsonLines(stdout) }));
  });
  return { child, done };
}

export function runOps(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return spawnOps(args, env).done;
}
