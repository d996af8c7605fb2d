/** For the hardening tests: waits for a CLI child, killing it if it outlives `limitMs` (a hang fails the test). */
import { expect } from 'vitest';
import type { CliChild, CliResult } from '../helpers/engine-cli.js';

export async function finishWithin({ child, done }: CliChild, limitMs: number, what: string): Promise<CliResult> {
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  try {
    const result = await done;
    expect(result.signal, `${what} was still running after ${limitMs} ms`).toBeNull();
    return result;
  } finally {
    clearTimeout(timer);
  }
}
