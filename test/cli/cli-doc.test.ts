/**
 * docs/cli.md is the --help of every command (scripts/gen-cli-doc.sh writes it). This fails when a command
 * or option changes without the reference being regenerated: `npm run build && npm run docs:cli`.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { commandNames } from '../../src/cli/commands/index.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

async function help(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--help'], {
    cwd: root,
    env: { ...process.env, COLUMNS: '110' },
  });
  return stdout;
}

describe('docs/cli.md', () => {
  it('holds the current --help of drivesnap and of every command', async () => {
    const doc = await readFile(`${root}docs/cli.md`, 'utf8');
    const limit = pLimit(4);
    const outputs = await Promise.all([[], ...commandNames.map((c) => [c])].map((args) => limit(async () => [args, await help(args)] as const)));
    for (const [args, text] of outputs) {
      expect(text.length, `help of ${args.join(' ')}`).toBeGreaterThan(100);
      expect(doc.includes(`\`\`\`\n${text}\`\`\``), `docs/cli.md is stale for "drivesnap ${args.join(' ')} --help": run npm run docs:cli`).toBe(true);
    }
  });
});
