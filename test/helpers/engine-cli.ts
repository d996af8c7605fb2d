/** Runs the drivesnap CLI in a child process (see engine-cli-entry.ts) with a controlled environment. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./engine-cli-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout lines that parse as JSON objects. */
  json: Record<string, unknown>[];
}

/** Only what the CLI needs: no inherited credentials, config or NODE_OPTIONS from the test runner. */
export function cliEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  return env;
}

export interface CliChild {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** `onStdout` sees the whole stdout so far after each piece arrives (to wait for a progress line). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string) => void, entry = ENTRY): CliChild {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return spawnCli(args, env).done;
}

export function parseJsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Polls `check` until it returns true (or throws when `give up` passes): for waiting, never for asserting. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, giveUpMs = 60_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + giveUpMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
