/**
 * The CLI as a child process with real pipes on its stdin and stdout, for the `-` (stdin/stdout) tests:
 * `input` is piped into stdin (or nothing: stdin closed), stdout is collected as bytes, and `readAtMost`
 * closes the reading end of stdout after that many bytes, as `| head -c N` does.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./engine-cli-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Piped {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runPiped(args: string[], env: NodeJS.ProcessEnv, o: { input?: Buffer; readAtMost?: number; entry?: string } = {}): Promise<Piped> {
  const child = spawn(process.execPath, ['--import', 'tsx', o.entry ?? ENTRY, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let got = 0;
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    if (o.readAtMost !== undefined && got >= o.readAtMost) return;
    out.push(b);
    got += b.length;
    if (o.readAtMost !== undefined && got >= o.readAtMost) child.stdout.destroy();
  });
  child.stderr.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
  });
  // The child may exit before reading all of its input (an error): that is not the test's failure.
  child.stdin.on('error', () => undefined);
  child.stdin.end(o.input ?? Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}
