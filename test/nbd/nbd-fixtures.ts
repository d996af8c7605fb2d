/**
 * For the NBD tests: which real clients this machine has, running them, and a `drivesnap nbd` child that
 * says where it listens (its --json line).
 */
import { execFile, spawnSync } from 'node:child_process';
import { type CliChild, spawnCli } from '../helpers/engine-cli.js';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (never throws for a non-zero exit: tests assert the code). */
export function runTool(cmd: string, args: string[], timeoutMs = 120_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

export interface ServedExport {
  name: string;
  size: number;
  uri: string;
}

export interface NbdChild extends CliChild {
  socket?: string;
  port?: number;
  exports: ServedExport[];
  stderr(): string;
}

/** Starts `drivesnap nbd ARGS --json` and resolves once it listens (rejects if it exits first). */
export async function startNbd(args: string[], env: NodeJS.ProcessEnv): Promise<NbdChild> {
  let ready: (line: Record<string, unknown>) => void = () => undefined;
  const listening = new Promise<Record<string, unknown>>((resolve) => {
    ready = resolve;
  });
  const cli = spawnCli(['nbd', ...args, '--json'], env, (text) => {
    const line = text.split('\n').find((l) => l.startsWith('{') && l.includes('"exports"'));
    if (line) ready(JSON.parse(line) as Record<string, unknown>);
  });
  let stderr = '';
  cli.child.stderr!.on('data', (t: string) => {
    stderr += t;
  });
  const first = await Promise.race([
    listening,
    cli.done.then((r) => {
      throw new Error(`drivesnap nbd exited (code ${r.code}) before listening: ${r.stderr}`);
    }),
  ]);
  return {
    ...cli,
    socket: first.socket as string | undefined,
    port: first.port as number | undefined,
    exports: first.exports as ServedExport[],
    stderr: () => stderr,
  };
}

/** SIGTERM, then the exit; SIGKILL if it hangs, so a broken shutdown fails the test instead of the run. */
export async function stopNbd(nbd: NbdChild): Promise<{ code: number | null; stderr: string }> {
  if (nbd.child.exitCode === null && nbd.child.signalCode === null) nbd.child.kill('SIGTERM');
  const forced = setTimeout(() => nbd.child.kill('SIGKILL'), 15_000);
  const r = await nbd.done;
  clearTimeout(forced);
  return { code: r.code, stderr: r.stderr };
}
